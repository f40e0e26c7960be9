import { StackValidationPolicy } from "@pulumi/policy";
import { list, record } from "../lib/props";
import { explain } from "../lib/report";
import { URL_MAP_TYPES } from "../lib/types";
import { isClassic } from "../lib/urlmaps";

type Props = Record<string, unknown>;

/** Every place a header action or a route action beyond urlRewrite appears in the map. */
function advancedRouting(props: Props): string[] {
    const found: string[] = [];
    const routeAction = (where: string, action: unknown) => {
        const keys = Object.keys(record(action) ?? {}).filter(
            (k) => k !== "urlRewrite" && record(action)?.[k] !== undefined,
        );
        if (keys.length > 0) {
            found.push(`${where}.${keys.join(`, ${where}.`)}`);
        }
    };
    const headerAction = (where: string, action: unknown) => {
        if (record(action) !== undefined) {
            found.push(where);
        }
    };
    headerAction("headerAction", props.headerAction);
    routeAction("defaultRouteAction", props.defaultRouteAction);
    list(props.pathMatchers).forEach((matcher, m) => {
        const at = `pathMatchers[${m}]`;
        headerAction(`${at}.headerAction`, matcher.headerAction);
        routeAction(`${at}.defaultRouteAction`, matcher.defaultRouteAction);
        list(matcher.pathRules).forEach((rule, r) =>
            routeAction(`${at}.pathRules[${r}].routeAction`, rule.routeAction),
        );
        list(matcher.routeRules).forEach((rule, r) => {
            headerAction(`${at}.routeRules[${r}].headerAction`, rule.headerAction);
            routeAction(`${at}.routeRules[${r}].routeAction`, rule.routeAction);
            list(record(rule.routeAction)?.weightedBackendServices).forEach((w, i) =>
                headerAction(
                    `${at}.routeRules[${r}].routeAction.weightedBackendServices[${i}].headerAction`,
                    w.headerAction,
                ),
            );
        });
    });
    return found;
}

export const disallowClassicAdvancedRouting: StackValidationPolicy = {
    name: "disallow-classic-advanced-routing",
    description:
        "URL maps in front of classic EXTERNAL backends must not use header actions or route actions other than urlRewrite, which only EXTERNAL_MANAGED supports.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Move the load balancer to loadBalancingScheme EXTERNAL_MANAGED, or drop route timeouts and header actions from the URL map.",
    validateStack: (args, report) => {
        const maps = args.resources.filter((r) => URL_MAP_TYPES.includes(r.type));
        if (maps.length === 0) {
            args.notApplicable("the stack has no URL map");
        }
        for (const map of maps.filter((m) => isClassic(m, args.resources))) {
            for (const where of advancedRouting(map.props)) {
                report(
                    explain(map.type, map.name, {
                        property: where,
                        found: "set on a URL map of the classic EXTERNAL scheme",
                        required: "unset (urlRewrite is the only route action the classic scheme takes)",
                        fix: "set loadBalancingScheme EXTERNAL_MANAGED on the backend services and forwarding rules, or remove it",
                        why: "the classic scheme supports neither header actions nor route timeouts, so the API rejects the map",
                    }),
                    map.urn,
                );
            }
        }
    },
};
