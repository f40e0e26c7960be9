import { ResourceValidationPolicy } from "@pulumi/policy";
import { LB_SET_REQUEST_HEADERS } from "../lib/gcp-facts";
import { JUDGES, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { list, record } from "../lib/props";
import { explain } from "../lib/report";
import { BACKEND_SERVICE_TYPES, URL_MAP_TYPES } from "../lib/types";

type Props = Record<string, unknown>;

/** Every headerAction of a URL map with the property path to it. */
function headerActions(map: Props): Array<[string, Props]> {
    const found: Array<[string, Props]> = [];
    const add = (where: string, action: unknown) => {
        const a = record(action);
        if (a) {
            found.push([where, a]);
        }
    };
    add("headerAction", map.headerAction);
    list(map.pathMatchers).forEach((matcher, m) => {
        add(`pathMatchers[${m}].headerAction`, matcher.headerAction);
        list(matcher.routeRules).forEach((rule, r) => {
            add(`pathMatchers[${m}].routeRules[${r}].headerAction`, rule.headerAction);
            list(record(rule.routeAction)?.weightedBackendServices).forEach((w, i) =>
                add(
                    `pathMatchers[${m}].routeRules[${r}].routeAction.weightedBackendServices[${i}].headerAction`,
                    w.headerAction,
                ),
            );
        });
    });
    return found;
}

const WHY =
    "the load balancer sets this header itself, and adding it without replacing can give the backend a second value, which strict backends reject";

export const disallowDuplicateProxyHeaders: ResourceValidationPolicy = {
    name: "disallow-duplicate-proxy-headers",
    description: `Headers the load balancer sets itself, such as X-Forwarded-Proto, should be added only with replace true in a URL map and not as custom headers of ${JUDGES.application}, so the backend sees one value.`,
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps:
        "Set replace: true on the URL map's requestHeadersToAdds entry, or drop the header: the load balancer already sends it.",
    validateResource: forTypes([...URL_MAP_TYPES, ...BACKEND_SERVICE_TYPES], (args, report) => {
        const setByLb = (name: unknown) =>
            typeof name === "string" && LB_SET_REQUEST_HEADERS.includes(name.toLowerCase());
        if (URL_MAP_TYPES.includes(args.type)) {
            for (const [where, action] of headerActions(args.props)) {
                list(action.requestHeadersToAdds).forEach((header, i) => {
                    if (setByLb(header.headerName) && header.replace !== true) {
                        report(
                            explain(args.type, args.name, {
                                property: `${where}.requestHeadersToAdds[${i}].replace`,
                                found: `${JSON.stringify(header.replace ?? false)} for ${String(header.headerName)}`,
                                required: "true",
                                fix: `set replace: true on ${String(header.headerName)}, or remove it`,
                                why: WHY,
                            }),
                        );
                    }
                });
            }
            return;
        }
        requireApplication(args, "custom HTTP headers");
        const entries: unknown = args.props.customRequestHeaders;
        (Array.isArray(entries) ? entries : []).forEach((entry: unknown, i: number) => {
            const name = typeof entry === "string" ? entry.split(":")[0].trim() : undefined;
            if (setByLb(name)) {
                report(
                    explain(args.type, args.name, {
                        property: `customRequestHeaders[${i}]`,
                        found: JSON.stringify(entry),
                        required: "no header the load balancer sets itself",
                        fix: `remove ${String(name)}, or set it on the URL map with replace: true`,
                        why: WHY,
                    }),
                );
            }
        });
    }),
};
