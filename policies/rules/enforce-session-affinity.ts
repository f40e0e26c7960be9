import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless } from "../lib/backends";
import { PackSettings, schemaFor, settingsFrom } from "../lib/config";
import {
    CLASSIC_AFFINITIES,
    HTTP_UNUSABLE_AFFINITIES,
    INTERNAL_ONLY_AFFINITIES,
    MAX_AFFINITY_COOKIE_TTL_SEC,
    TTL_COOKIE_AFFINITIES,
} from "../lib/gcp-facts";
import { JUDGES, LbKind, lbKindOf, notApplicationReason } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { patched, record } from "../lib/props";
import { explain, Finding, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

type Props = Record<string, unknown>;
const STICKY = "a WebSocket client that reconnects must land on the backend that holds its session";

/** What to suggest: an affinity both allowed by the pack and accepted on the kind, cookie first. */
function suggestion(allowed: readonly string[], kind: LbKind): string | undefined {
    const usable = allowed.filter((a) => kind.affinities.includes(a) && a !== "NONE");
    return ["GENERATED_COOKIE", "STRONG_COOKIE_AFFINITY", "HTTP_COOKIE", ...usable].find((a) => usable.includes(a));
}

function suggest(allowed: readonly string[], kind: LbKind, ttlSec: number): string {
    const pick = suggestion(allowed, kind);
    if (!pick) {
        return `no affinity in allowedAffinities (${allowed.join(", ")}) works on loadBalancingScheme ${kind.scheme} (${kind.label}): change the pack's allowedAffinities or the scheme`;
    }
    return TTL_COOKIE_AFFINITIES.includes(pick)
        ? `set sessionAffinity: "${pick}" with affinityCookieTtlSec: ${Math.min(ttlSec, MAX_AFFINITY_COOKIE_TTL_SEC)}`
        : `set sessionAffinity: "${pick}"`;
}

/** The one finding about the affinity value itself, if any. */
function affinityFinding(
    affinity: string,
    kind: LbKind,
    allowed: readonly string[],
    ttlSec: number,
): Finding | undefined {
    if (HTTP_UNUSABLE_AFFINITIES.includes(affinity)) {
        return {
            property: "sessionAffinity",
            found: `${show(affinity)} on an HTTP(S) backend service (protocol ${kind.protocol})`,
            required: `an affinity HTTP(S) load balancing supports on loadBalancingScheme ${kind.scheme}: ${kind.affinities.join(", ")}`,
            fix: suggest(allowed, kind, ttlSec),
            why: INTERNAL_ONLY_AFFINITIES.includes(affinity)
                ? `${affinity} exists only for internal passthrough load balancers`
                : `the Compute API's sessionAffinity enum says ${affinity} cannot be used for HTTP(S) load balancing, so the API rejects the backend service`,
        };
    }
    if (!allowed.includes(affinity)) {
        return {
            property: "sessionAffinity",
            found: show(affinity),
            required: `one of ${allowed.join(", ")} (the pack's allowedAffinities)`,
            fix: suggest(allowed, kind, ttlSec),
            why: "this organisation's policy allows only those",
        };
    }
    if (!kind.affinities.includes(affinity)) {
        return {
            property: "sessionAffinity",
            found: `${show(affinity)} on loadBalancingScheme ${kind.scheme}`,
            required: `one of ${kind.affinities.join(", ")} on ${kind.classic ? "the classic scheme" : `the ${kind.label}`}`,
            fix: kind.classic
                ? `${suggest(allowed, kind, ttlSec)}, or move to loadBalancingScheme EXTERNAL_MANAGED`
                : suggest(allowed, kind, ttlSec),
            why: kind.classic
                ? `the classic EXTERNAL scheme supports only ${CLASSIC_AFFINITIES.join(", ")}`
                : `the ${kind.label} does not support ${affinity}`,
        };
    }
    return undefined;
}

/** Every affinity problem of one Application Load Balancer backend service, as findings. */
function findings(
    props: Props,
    kind: LbKind,
    settings: Pick<PackSettings, "allowedAffinities" | "minAffinityTtlSec">,
): Finding[] {
    const affinity = typeof props.sessionAffinity === "string" ? props.sessionAffinity : "NONE";
    const usable = settings.allowedAffinities.filter((a) => kind.affinities.includes(a));
    const found: Finding[] = [];
    if (affinity === "NONE") {
        found.push({
            property: "sessionAffinity",
            found: props.sessionAffinity === undefined ? "unset (NONE)" : show(affinity),
            required: `one of ${usable.join(", ") || "(none of allowedAffinities works on this scheme)"}`,
            fix: suggest(settings.allowedAffinities, kind, settings.minAffinityTtlSec),
            why: STICKY,
        });
        return found;
    }
    const wrong = affinityFinding(affinity, kind, settings.allowedAffinities, settings.minAffinityTtlSec);
    if (wrong) {
        found.push(wrong);
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

/** Why the rule does not judge this resource, or undefined when it does. */
function notJudged(args: ResourceValidationArgs): string | undefined {
    if (!BACKEND_SERVICE_TYPES.includes(args.type)) {
        return "not a backend service";
    }
    if (looksServerless(args.props)) {
        return "backed only by regional NEGs, which may be serverless, where load balancer affinity does not apply; enforce-serverless-backend-limits judges it at the stack phase";
    }
    return notApplicationReason(lbKindOf(args.type, args.props), "cookie affinity for WebSockets");
}

export const enforceSessionAffinity: ResourceValidationPolicy = {
    name: "enforce-session-affinity",
    description: `${JUDGES.application} that carry WebSockets must use a sticky session affinity that is allowed, that their kind of load balancer accepts, and whose cookie outlives the connection.`,
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Set sessionAffinity to GENERATED_COOKIE and affinityCookieTtlSec to at least minAffinityTtlSec; remediation does exactly that when GENERATED_COOKIE is allowed.",
    configSchema: schemaFor("allowedAffinities", "minAffinityTtlSec"),
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const reason = notJudged(args);
        if (reason) {
            args.notApplicable(reason);
        }
        const kind = lbKindOf(args.type, args.props);
        for (const finding of findings(
            args.props,
            kind,
            settingsFrom(() => args.getConfig(), "allowedAffinities", "minAffinityTtlSec"),
        )) {
            report(explain(args.type, args.name, finding));
        }
    }),
    remediateResource: (args) => {
        if (notJudged(args)) {
            return undefined;
        }
        const kind = lbKindOf(args.type, args.props);
        const settings = settingsFrom(() => args.getConfig(), "allowedAffinities", "minAffinityTtlSec");
        if (
            findings(args.props, kind, settings).length === 0 ||
            suggestion(settings.allowedAffinities, kind) !== "GENERATED_COOKIE" ||
            !kind.affinities.includes("GENERATED_COOKIE")
        ) {
            return undefined;
        }
        // Only on a kind that accepts GENERATED_COOKIE; the TTL stays within the API's ceiling.
        return patched(args.props, {
            sessionAffinity: "GENERATED_COOKIE",
            affinityCookieTtlSec: Math.min(settings.minAffinityTtlSec, MAX_AFFINITY_COOKIE_TTL_SEC),
            strongSessionAffinityCookie: undefined,
        });
    },
};
