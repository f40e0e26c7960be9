import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, schemeOf } from "../lib/backends";
import { PackSettings, schemaFor, settingsFrom } from "../lib/config";
import {
    CLASSIC_AFFINITIES,
    INTERNAL_ONLY_AFFINITIES,
    MAX_AFFINITY_COOKIE_TTL_SEC,
    TTL_COOKIE_AFFINITIES,
} from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { patched, record } from "../lib/props";
import { explain, Finding, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

type Props = Record<string, unknown>;
const STICKY = "a WebSocket client that reconnects must land on the backend that holds its session";

/** Every affinity problem of one backend service, as findings. */
function findings(props: Props, settings: Pick<PackSettings, "allowedAffinities" | "minAffinityTtlSec">): Finding[] {
    const affinity = typeof props.sessionAffinity === "string" ? props.sessionAffinity : "NONE";
    const scheme = schemeOf(props);
    const found: Finding[] = [];
    if (affinity === "NONE") {
        found.push({
            property: "sessionAffinity",
            found: props.sessionAffinity === undefined ? "unset (NONE)" : show(affinity),
            required: `one of ${settings.allowedAffinities.join(", ")}`,
            fix: "set sessionAffinity: \"GENERATED_COOKIE\" with affinityCookieTtlSec: 86400",
            why: STICKY,
        });
        return found;
    }
    if (INTERNAL_ONLY_AFFINITIES.includes(affinity)) {
        found.push({
            property: "sessionAffinity",
            found: show(affinity),
            required: "an affinity an external Application Load Balancer supports",
            fix: "use GENERATED_COOKIE",
            why: `${affinity} exists only for internal passthrough load balancers`,
        });
    } else if (!settings.allowedAffinities.includes(affinity)) {
        found.push({
            property: "sessionAffinity",
            found: show(affinity),
            required: `one of ${settings.allowedAffinities.join(", ")} (the pack's allowedAffinities)`,
            fix: "use one of the allowed affinities, such as GENERATED_COOKIE",
            why: "this organisation's policy allows only those",
        });
    }
    if (scheme === "EXTERNAL" && !CLASSIC_AFFINITIES.includes(affinity)) {
        found.push({
            property: "sessionAffinity",
            found: `${show(affinity)} on loadBalancingScheme EXTERNAL`,
            required: `one of ${CLASSIC_AFFINITIES.join(", ")} on the classic scheme`,
            fix: "use GENERATED_COOKIE, or move to loadBalancingScheme EXTERNAL_MANAGED",
            why: "the classic EXTERNAL scheme supports only NONE, CLIENT_IP and GENERATED_COOKIE",
        });
    }
    if (TTL_COOKIE_AFFINITIES.includes(affinity)) {
        const ttl = typeof props.affinityCookieTtlSec === "number" ? props.affinityCookieTtlSec : 0;
        const shown = props.affinityCookieTtlSec === undefined ? "unset (0, a session cookie)" : show(ttl);
        if (ttl < settings.minAffinityTtlSec) {
            found.push({
                property: "affinityCookieTtlSec",
                found: shown,
                required: `at least ${settings.minAffinityTtlSec}`,
                fix: `set affinityCookieTtlSec: ${settings.minAffinityTtlSec}`,
                why: `the cookie must outlive the connection so a reconnect within it stays sticky (${STICKY})`,
            });
        } else if (ttl > MAX_AFFINITY_COOKIE_TTL_SEC) {
            found.push({
                property: "affinityCookieTtlSec",
                found: shown,
                required: `at most ${MAX_AFFINITY_COOKIE_TTL_SEC}`,
                fix: `set affinityCookieTtlSec between ${settings.minAffinityTtlSec} and ${MAX_AFFINITY_COOKIE_TTL_SEC}`,
                why: "the API rejects a cookie lifetime over two weeks",
            });
        }
    }
    if (affinity === "STRONG_COOKIE_AFFINITY") {
        const cookie = record(props.strongSessionAffinityCookie);
        const ttl = Number(record(cookie?.ttl)?.seconds ?? 0);
        if (!cookie || typeof cookie.name !== "string" || ttl < settings.minAffinityTtlSec) {
            found.push({
                property: "strongSessionAffinityCookie",
                found: cookie ? `name ${show(cookie.name)}, ttl ${ttl} s` : "unset",
                required: `a cookie block with a name and ttl.seconds of at least ${settings.minAffinityTtlSec}`,
                fix: `set strongSessionAffinityCookie: { name: "lb-affinity", path: "/", ttl: { seconds: ${settings.minAffinityTtlSec} } }`,
                why: "STRONG_COOKIE_AFFINITY takes its cookie from that block",
            });
        }
    }
    return found;
}

function applicable(args: ResourceValidationArgs): boolean {
    return BACKEND_SERVICE_TYPES.includes(args.type) && !looksServerless(args.props);
}

export const enforceSessionAffinity: ResourceValidationPolicy = {
    name: "enforce-session-affinity",
    description: "Backend services that carry WebSockets must use an allowed, sticky session affinity whose cookie outlives the connection.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: "Set sessionAffinity to GENERATED_COOKIE and affinityCookieTtlSec to 86400.",
    configSchema: schemaFor("allowedAffinities", "minAffinityTtlSec"),
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        if (!applicable(args)) {
            args.notApplicable("backed by serverless NEGs, where load balancer affinity does not apply; use Cloud Run session affinity");
        }
        for (const finding of findings(args.props, settingsFrom(args.getConfig, "allowedAffinities", "minAffinityTtlSec"))) {
            report(explain(args.type, args.name, finding));
        }
    }),
    remediateResource: (args) => {
        if (!applicable(args)) {
            return undefined;
        }
        const settings = settingsFrom(args.getConfig, "allowedAffinities", "minAffinityTtlSec");
        if (findings(args.props, settings).length === 0 || !settings.allowedAffinities.includes("GENERATED_COOKIE")) {
            return undefined;
        }
        // GENERATED_COOKIE works on both schemes; the TTL stays within the API's ceiling.
        return patched(args.props, {
            sessionAffinity: "GENERATED_COOKIE",
            affinityCookieTtlSec: Math.min(settings.minAffinityTtlSec, MAX_AFFINITY_COOKIE_TTL_SEC),
            strongSessionAffinityCookie: undefined,
        });
    },
};
