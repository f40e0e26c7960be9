import {
    FORBIDDEN_HEADER_NAMES,
    FORBIDDEN_HEADER_PREFIXES,
    RATE_LIMIT_ACTIONS,
    RATE_LIMIT_EXCEED_STATUSES,
    RATE_LIMIT_INTERVALS_SEC,
} from "../../../policies/facts";
import { Cloud } from "./cloud";
import { enumProblems, Problem } from "./enum-checks";
import {
    alertPolicyRules,
    backendServiceRules,
    cloudRunRules,
    functionRules,
    regionalGroupRules,
    uptimeCheckRules,
    urlMapHeaderRules,
} from "./google-rules";

/**
 * What the Google APIs refuse at create or update time, checked on the stand-in's create and
 * update so that a program bug fails `pulumi up` the way it would against Google: every enum value
 * against Google's protos (enum-checks.ts), the rules of google-rules.ts, and these. Each names its
 * source. Preview is left to the policy pack, as with the real provider, which cannot know these
 * API rules at plan time.
 */

const CUSTOM_HEADERS_DOC = "https://cloud.google.com/load-balancing/docs/https/custom-headers-global";
const SERVERLESS_NEGS_DOC = "https://cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts";
const CLASSIC_ROUTING_DOC = "https://cloud.google.com/load-balancing/docs/url-map-concepts";

type Props = Record<string, unknown>;

function isRecord(value: unknown): value is Props {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** Compute ids in references may be full self links or relative `projects/...` names. */
function normalizeRef(ref: string): string {
    return ref.replace(/^https:\/\/(www|compute)\.googleapis\.com\/compute\/(v1|beta)\//, "");
}

// The names the API refuses, from the facts the pack and the program use (custom-headers docs).
const FORBIDDEN_HEADERS = new Set(FORBIDDEN_HEADER_NAMES);
const FORBIDDEN_PREFIXES = FORBIDDEN_HEADER_PREFIXES;

function headerProblems(field: string, entries: unknown): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    list(entries).forEach((entry, i) => {
        const where = `${field}[${i}]`;
        const match = typeof entry === "string" ? /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):\s*(.*)$/.exec(entry) : null;
        if (typeof entry !== "string" || !match) {
            problems.push(`Invalid value for field '${where}': ${JSON.stringify(entry)}. Expected "Name: value".`);
            return;
        }
        const name = match[1].toLowerCase();
        if (FORBIDDEN_HEADERS.has(name) || FORBIDDEN_PREFIXES.some((p) => name.startsWith(p))) {
            problems.push(
                `Invalid value for field '${where}': '${entry}'. Header '${match[1]}' cannot be set as a custom header.`,
            );
        }
        if (seen.has(name)) {
            problems.push(`Invalid value for field '${where}': '${entry}'. Duplicate header name '${match[1]}'.`);
        }
        seen.add(name);
    });
    return problems;
}

function backendServiceProblems(props: Props, cloud: Cloud): Problem[] {
    const problems: Problem[] = [
        ...headerProblems("resource.customRequestHeaders", props.customRequestHeaders),
        ...headerProblems("resource.customResponseHeaders", props.customResponseHeaders),
    ].map((message) => ({ message, source: CUSTOM_HEADERS_DOC }));
    const serverless = list(props.backends).some((b) => {
        const group = isRecord(b) && typeof b.group === "string" ? cloud.get(normalizeRef(b.group)) : undefined;
        return (
            group?.type === "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup" &&
            group.props.networkEndpointType === "SERVERLESS"
        );
    });
    if (props.timeoutSec !== undefined) {
        if (serverless) {
            problems.push({
                message: "Timeout sec is not supported for a backend service with Serverless network endpoint groups.",
                source: SERVERLESS_NEGS_DOC,
            });
        }
        if (typeof props.timeoutSec === "number" && (props.timeoutSec < 1 || props.timeoutSec > 2_147_483_647)) {
            problems.push({
                message: `Invalid value for field 'resource.timeoutSec': '${props.timeoutSec}'. Must be between 1 and 2147483647.`,
                source: "@google-cloud/compute/build/protos/google/cloud/compute/v1/compute.proto (BackendService.timeout_sec, int32)",
            });
        }
    }
    return [...problems, ...backendServiceRules(props, serverless)];
}

/** Every backend service a URL map sends traffic to. */
function referencedServices(map: Props): string[] {
    const refs: unknown[] = [map.defaultService];
    const fromRouteAction = (action: unknown) =>
        isRecord(action)
            ? list(action.weightedBackendServices).map((w) => (isRecord(w) ? w.backendService : undefined))
            : [];
    refs.push(...fromRouteAction(map.defaultRouteAction));
    for (const matcher of list(map.pathMatchers).filter(isRecord)) {
        refs.push(matcher.defaultService, ...fromRouteAction(matcher.defaultRouteAction));
        for (const rule of [...list(matcher.pathRules), ...list(matcher.routeRules)].filter(isRecord)) {
            refs.push(rule.service, ...fromRouteAction(rule.routeAction));
        }
    }
    return refs.filter((r): r is string => typeof r === "string").map(normalizeRef);
}

/** headerAction anywhere, and route actions beyond urlRewrite: what the classic scheme lacks. */
function advancedRouting(map: Props): string[] {
    const found: string[] = [];
    const action = (where: string, value: unknown) => {
        if (!isRecord(value)) {
            return;
        }
        const extra = Object.keys(value).filter(
            (k) => k !== "urlRewrite" && value[k] !== undefined && value[k] !== null,
        );
        if (extra.length > 0) {
            found.push(`${where} (${extra.join(", ")})`);
        }
        list(value.weightedBackendServices).forEach((w, i) => {
            if (isRecord(w) && w.headerAction !== undefined) {
                found.push(`${where}.weightedBackendServices[${i}].headerAction`);
            }
        });
    };
    const header = (where: string, value: unknown) => {
        if (value !== undefined && value !== null) {
            found.push(`${where}.headerAction`);
        }
    };
    header("urlMap", map.headerAction);
    action("urlMap.defaultRouteAction", map.defaultRouteAction);
    list(map.pathMatchers).forEach((m, i) => {
        if (!isRecord(m)) {
            return;
        }
        const where = `pathMatchers[${i}]`;
        header(where, m.headerAction);
        action(`${where}.defaultRouteAction`, m.defaultRouteAction);
        list(m.pathRules).forEach(
            (r, j) => isRecord(r) && action(`${where}.pathRules[${j}].routeAction`, r.routeAction),
        );
        list(m.routeRules).forEach((r, j) => {
            if (isRecord(r)) {
                header(`${where}.routeRules[${j}]`, r.headerAction);
                action(`${where}.routeRules[${j}].routeAction`, r.routeAction);
            }
        });
    });
    return found;
}

function urlMapProblems(props: Props, cloud: Cloud): Problem[] {
    const headers = urlMapHeaderRules(props);
    const classic = referencedServices(props).filter((ref) => {
        const service = cloud.get(ref);
        // The API's default scheme for a backend service is EXTERNAL (classic).
        return service !== undefined && (service.props.loadBalancingScheme ?? "EXTERNAL") === "EXTERNAL";
    });
    const advanced = classic.length === 0 ? [] : advancedRouting(props);
    return advanced.length === 0
        ? headers
        : [
              ...headers,
              {
                  message:
                      `URL map uses features not supported by the classic load balancing scheme EXTERNAL (backend service ${classic[0]}): ` +
                      `${advanced.join("; ")}. Only routeAction.urlRewrite is supported there, and headerAction is not supported at any level.`,
                  source: CLASSIC_ROUTING_DOC,
              },
          ];
}

/**
 * Security policy rules the API refuses: a rate-based action without rateLimitOptions, or
 * rateLimitOptions on any other action (`@pulumi/gcp` types/input.d.ts, `SecurityPolicyRule.rateLimitOptions`),
 * an exceed status outside deny(403|404|429|502), an interval outside Cloud Armor's list.
 */
function securityPolicyProblems(props: Props): string[] {
    const problems: string[] = [];
    const rateActions: readonly string[] = RATE_LIMIT_ACTIONS;
    list(props.rules).forEach((rule, i) => {
        const r = isRecord(rule) ? rule : {};
        const where = `resource.rules[${i}]`;
        const options = isRecord(r.rateLimitOptions) ? r.rateLimitOptions : undefined;
        const rateBased = rateActions.includes(String(r.action));
        if (rateBased !== (options !== undefined)) {
            problems.push(
                `Invalid value for field '${where}.rateLimitOptions': rate limit options must be set exactly when the action is throttle or rate_based_ban (action ${JSON.stringify(r.action)}).`,
            );
        }
        if (!options) {
            return;
        }
        const exceed = /^deny\((\d{3})\)$/.exec(String(options.exceedAction));
        if (!exceed || !RATE_LIMIT_EXCEED_STATUSES.includes(Number(exceed[1]))) {
            problems.push(
                `Invalid value for field '${where}.rateLimitOptions.exceedAction': ${JSON.stringify(options.exceedAction)}.`,
            );
        }
        const threshold = isRecord(options.rateLimitThreshold) ? options.rateLimitThreshold : {};
        if (!RATE_LIMIT_INTERVALS_SEC.includes(Number(threshold.intervalSec))) {
            problems.push(
                `Invalid value for field '${where}.rateLimitOptions.rateLimitThreshold.intervalSec': ${JSON.stringify(threshold.intervalSec)}.`,
            );
        }
    });
    return problems;
}

/** The API's 400 for these inputs, or undefined when it would accept them. */
export function apiRefusal(type: string, props: Props, cloud: Cloud, project: string): string | undefined {
    const problems = [...enumProblems(type, props), ...typeProblems(type, props, cloud, project)];
    return problems.length === 0
        ? undefined
        : `googleapi: Error 400: ${problems.map((p) => `${p.message} [source: ${p.source}]`).join(" ")}, invalid (refused by the gcp stand-in, as Google's API refuses it)`;
}

function typeProblems(type: string, props: Props, cloud: Cloud, project: string): Problem[] {
    switch (type) {
        case "gcp:compute/backendService:BackendService":
            return backendServiceProblems(props, cloud);
        case "gcp:compute/uRLMap:URLMap":
            return urlMapProblems(props, cloud);
        case "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager":
            return regionalGroupRules(props);
        case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
            return uptimeCheckRules(props);
        case "gcp:monitoring/alertPolicy:AlertPolicy":
            return alertPolicyRules(props);
        case "gcp:cloudfunctionsv2/function:Function":
            return functionRules(props, cloud, project);
        case "gcp:cloudrunv2/service:Service":
            return cloudRunRules(props, cloud, project);
        case "gcp:compute/securityPolicy:SecurityPolicy":
            return securityPolicyProblems(props).map((message) => ({
                message,
                source: "https://cloud.google.com/armor/docs/rate-limiting-overview; @pulumi/gcp types/input.d.ts SecurityPolicyRule",
            }));
        default:
            return [];
    }
}
