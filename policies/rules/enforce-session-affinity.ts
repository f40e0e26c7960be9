import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, protocolOf, schemeOf } from "../lib/backends";
import { PackSettings, schemaFor, settingsFrom } from "../lib/config";
import {
    AFFINITIES_BY_SCHEME,
    CLASSIC_AFFINITIES,
    HTTP_PROTOCOLS,
    HTTP_UNUSABLE_AFFINITIES,
    INTERNAL_ONLY_AFFINITIES,
    MAX_AFFINITY_COOKIE_TTL_SEC,
    SESSION_AFFINITIES,
    TTL_COOKIE_AFFINITIES,
} from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { patched, record } from "../lib/props";
import { explain, Finding, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

type Props = Record<string, unknown>;
const STICKY = "a WebSocket client that reconnects must land on the backend that holds its session";

/** The affinities a scheme supports for HTTP(S); other schemes get every affinity HTTP(S) can use. */
function supportedOn(scheme: string): readonly string[] {
    return AFFINITIES_BY_SCHEME[scheme] ?? SESSION_AFFINITIES.filter((a) => !HTTP_UNUSABLE_AFFINITIES.includes(a));
}

/** What to suggest: an affinity both allowed by the pack and supported by the scheme, cookie first. */
function suggestion(allowed: readonly string[], scheme: string): string | undefined {
    const usable = allowed.filter((a) => supportedOn(scheme).includes(a) && a !== "NONE");
    return ["GENERATED_COOKIE", "STRONG_COOKIE_AFFINITY", "HTTP_COOKIE", ...usable].find((a) => usable.includes(a));
}

function suggest(allowed: readonly string[], scheme: string, ttlSec: number): string {
    const pick = suggestion(allowed, scheme);
    if (!pick) {
        return `no affinity in allowedAffinities (${allowed.join(", ")}) works on loadBalancingScheme ${scheme}: change the pack's allowedAffinities or the scheme`;
    }
    return TTL_COOKIE_AFFINITIES.includes(pick)
        ? `set sessionAffinity: "${pick}" with affinityCookieTtlSec: ${Math.min(ttlSec, MAX_AFFINITY_COOKIE_TTL_SEC)}`
        : `set sessionAffinity: "${pick}"`;
}

/** Every affinity problem of one backend service, as findings. */
function findings(props: Props, settings: Pick<PackSettings, "allowedAffinities" | "minAffinityTtlSec">): Finding[] {
    const affinity = typeof props.sessionAffinity === "string" ? props.sessionAffinity : "NONE";
    const scheme = schemeOf(props);
    const usable = settings.allowedAffinities.filter((a) => supportedOn(scheme).includes(a));
    const found: Finding[] = [];
    if (affinity === "NONE") {
        found.push({
            property: "sessionAffinity",
            found: props.sessionAffinity === undefined ? "unset (NONE)" : show(affinity),
            required: `one of ${usable.join(", ") || "(none of allowedAffinities works on this scheme)"}`,
            fix: suggest(settings.allowedAffinities, scheme, settings.minAffinityTtlSec),
            why: STICKY,
        });
        return found;
    }
    if (
        HTTP_UNUSABLE_AFFINITIES.includes(affinity) &&
        (HTTP_PROTOCOLS.includes(protocolOf(props)) || INTERNAL_ONLY_AFFINITIES.includes(affinity))
    ) {
        found.push({
            property: "sessionAffinity",
            found: `${show(affinity)} on an HTTP(S) backend service (protocol ${protocolOf(props)})`,
            required: `an affinity HTTP(S) load balancing supports on loadBalancingScheme ${scheme}: ${supportedOn(scheme).join(", ")}`,
            fix: suggest(settings.allowedAffinities, scheme, settings.minAffinityTtlSec),
            why: INTERNAL_ONLY_AFFINITIES.includes(affinity)
                ? `${affinity} exists only for internal passthrough load balancers`
                : `the Compute API's sessionAffinity enum says ${affinity} cannot be used for HTTP(S) load balancing, so the API rejects the backend service`,
        });
    } else if (!settings.allowedAffinities.includes(affinity)) {
        found.push({
            property: "sessionAffinity",
            found: show(affinity),
            required: `one of ${settings.allowedAffinities.join(", ")} (the pack's allowedAffinities)`,
            fix: suggest(settings.allowedAffinities, scheme, settings.minAffinityTtlSec),
            why: "this organisation's policy allows only those",
        });
    } else if (!supportedOn(scheme).includes(affinity)) {
        found.push({
            property: "sessionAffinity",
            found: `${show(affinity)} on loadBalancingScheme ${scheme}`,
            required: `one of ${supportedOn(scheme).join(", ")} on ${scheme === "EXTERNAL" ? "the classic scheme" : scheme}`,
            fix:
                scheme === "EXTERNAL"
                    ? `${suggest(settings.allowedAffinities, scheme, settings.minAffinityTtlSec)}, or move to loadBalancingScheme EXTERNAL_MANAGED`
                    : suggest(settings.allowedAffinities, scheme, settings.minAffinityTtlSec),
            why:
                scheme === "EXTERNAL"
                    ? `the classic EXTERNAL scheme supports only ${CLASSIC_AFFINITIES.join(", ")}`
                    : `${scheme} does not support ${affinity}`,
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
    description:
        "Backend services that carry WebSockets must use a sticky session affinity that is allowed, that their load balancing scheme supports for HTTP(S), and whose cookie outlives the connection.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Set sessionAffinity to GENERATED_COOKIE and affinityCookieTtlSec to at least minAffinityTtlSec; remediation does exactly that when GENERATED_COOKIE is allowed.",
    configSchema: schemaFor("allowedAffinities", "minAffinityTtlSec"),
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        if (!applicable(args)) {
            args.notApplicable(
                "backed only by regional NEGs, which may be serverless, where load balancer affinity does not apply; enforce-serverless-backend-limits judges it at the stack phase",
            );
        }
        for (const finding of findings(
            args.props,
            settingsFrom(args.getConfig, "allowedAffinities", "minAffinityTtlSec"),
        )) {
            report(explain(args.type, args.name, finding));
        }
    }),
    remediateResource: (args) => {
        if (!applicable(args)) {
            return undefined;
        }
        const settings = settingsFrom(args.getConfig, "allowedAffinities", "minAffinityTtlSec");
        if (
            findings(args.props, settings).length === 0 ||
            suggestion(settings.allowedAffinities, schemeOf(args.props)) !== "GENERATED_COOKIE"
        ) {
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
