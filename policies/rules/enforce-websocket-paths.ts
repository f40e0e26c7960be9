import { ResourceValidationPolicy } from "@pulumi/policy";
import { schemaFor, settingsFrom } from "../lib/config";
import { pathPatternProblem, wildcardBase } from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { list, peek, UNKNOWN } from "../lib/props";
import { explain } from "../lib/report";
import { URL_MAP_TYPES } from "../lib/types";
import { isRedirectOnly } from "../lib/urlmaps";

type Props = Record<string, unknown>;

/** Whether a route rule names the path explicitly (full match, or a prefix that covers it). */
function routeRulesCover(matcher: Props, path: string): boolean {
    const base = wildcardBase(path);
    return list(matcher.routeRules).some((rule) =>
        list(rule.matchRules).some((m) =>
            base === undefined
                ? m.fullPathMatch === path || (typeof m.prefixMatch === "string" && path.startsWith(m.prefixMatch))
                : typeof m.prefixMatch === "string" && `${base}/`.startsWith(m.prefixMatch),
        ),
    );
}

type Fail = (property: string, found: string, required: string, fix: string, why: string) => void;

/** Each /x/* in a matcher must have its /x beside it, routed to the same service. */
function checkWildcardPairs(rules: Props[], ruleOf: Map<string, number>, m: number, fail: Fail): void {
    for (const [path, r] of ruleOf) {
        const base = wildcardBase(path);
        if (base === undefined) {
            continue;
        }
        const baseRule = ruleOf.get(base);
        if (baseRule === undefined) {
            fail(
                `pathMatchers[${m}].pathRules[${r}].paths`,
                `${JSON.stringify(path)} without ${JSON.stringify(base)}`,
                `${base} routed to the same service`,
                `add ${JSON.stringify(base)} to the same path rule`,
                `${path} does not match ${base}, which would fall through to another service`,
            );
        } else if (baseRule !== r) {
            const a = peek(() => rules[r].service);
            const b = peek(() => rules[baseRule].service);
            if (a === UNKNOWN || b === UNKNOWN) {
                // Different rules with services not yet known: read for real, so the SDK reports it can't judge.
                void rules[r].service;
                void rules[baseRule].service;
            } else if (a !== b) {
                fail(
                    `pathMatchers[${m}].pathRules[${baseRule}]`,
                    `${base} routed to ${String(b)} while ${path} goes to ${String(a)}`,
                    `${base} and ${path} on the same service`,
                    `move ${base} into the path rule of ${path}`,
                    "a client that connects to either must reach the same WebSocket backend",
                );
            }
        }
    }
}

export const enforceWebsocketPaths: ResourceValidationPolicy = {
    name: "enforce-websocket-paths",
    description:
        "URL maps must route every WebSocket path explicitly, list each /x beside its /x/* for the same service, and use * only after a final /.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Add a path rule with /ws, /ws/*, /websocket and /websocket/* that sends them to the WebSocket backend.",
    configSchema: schemaFor("websocketPaths"),
    validateResource: forTypes(URL_MAP_TYPES, (args, report) => {
        const props = args.props;
        if (isRedirectOnly(props)) {
            args.notApplicable("the URL map only redirects");
        }
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const matchers = list(props.pathMatchers);
        const fail: Fail = (property, found, required, fix, why) =>
            report(explain(args.type, args.name, { property, found, required, fix, why }));

        if (matchers.length === 0 && websocketPaths.length > 0) {
            fail(
                "pathMatchers",
                "unset: every path goes to the default service with no route of its own",
                `path rules for ${websocketPaths.join(", ")}`,
                "add a host rule and a path matcher whose path rule lists the WebSocket paths",
                "a WebSocket route needs its own rule to carry its own timeout",
            );
        }
        matchers.forEach((matcher, m) => {
            const rules = list(matcher.pathRules);
            const ruleOf = new Map<string, number>();
            rules.forEach((rule, r) => {
                for (const path of (rule.paths as string[] | undefined) ?? []) {
                    ruleOf.set(path, r);
                    const problem = pathPatternProblem(path);
                    if (problem) {
                        fail(
                            `pathMatchers[${m}].pathRules[${r}].paths`,
                            JSON.stringify(path),
                            "a path that starts with / and has * only right after a final /",
                            `rewrite ${path}`,
                            `the API rejects a path that ${problem}`,
                        );
                    }
                }
            });
            for (const path of websocketPaths) {
                if (!ruleOf.has(path) && !routeRulesCover(matcher, path)) {
                    fail(
                        `pathMatchers[${m}] ("${String(matcher.name)}")`,
                        `missing WebSocket path ${path}`,
                        `a rule routing ${path}`,
                        `add ${JSON.stringify(path)} to the path rule of the WebSocket backend`,
                        wildcardBase(path)
                            ? `nothing else sends ${path} to the WebSocket route`
                            : `${path}/* does not match ${path} itself`,
                    );
                }
            }
            checkWildcardPairs(rules, ruleOf, m, fail);
        });
    }),
};
