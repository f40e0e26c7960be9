import { StackValidationPolicy } from "@pulumi/policy";
import { referencedBy } from "../lib/backends";
import { list, record } from "../lib/props";
import { explain, subject } from "../lib/report";
import { FORWARDING_RULE_TYPES, HTTP_PROXY_TYPES, URL_MAP_TYPES } from "../lib/types";

function servesPort80(portRange: unknown): boolean {
    if (typeof portRange !== "string") {
        return false;
    }
    const [low, high = low] = portRange.split("-").map(Number);
    return low <= 80 && 80 <= high;
}

function redirectsToHttps(map: Record<string, unknown>): boolean {
    return (
        record(map.defaultUrlRedirect)?.httpsRedirect === true &&
        map.defaultService === undefined &&
        list(map.pathMatchers).length === 0 &&
        list(map.hostRules).length === 0
    );
}

export const enforceHttpsOnly: StackValidationPolicy = {
    name: "enforce-https-only",
    description: "A forwarding rule on port 80 must lead only to a URL map that redirects every request to HTTPS.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Point the port-80 forwarding rule at a target HTTP proxy whose URL map has only defaultUrlRedirect { httpsRedirect: true }.",
    validateStack: (args, report) => {
        const rules = args.resources.filter(
            (r) => FORWARDING_RULE_TYPES.includes(r.type) && servesPort80(r.props.portRange),
        );
        if (rules.length === 0) {
            args.notApplicable("no forwarding rule listens on port 80");
        }
        for (const rule of rules) {
            const targets = referencedBy(rule, "target");
            const proxy = targets.find((t) => HTTP_PROXY_TYPES.includes(t.type));
            const map = proxy ? referencedBy(proxy, "urlMap").find((r) => URL_MAP_TYPES.includes(r.type)) : undefined;
            if (targets.length === 0 || (proxy && !map)) {
                continue; // Its target is outside this stack: nothing here to judge.
            }
            if (!map || !redirectsToHttps(map.props)) {
                report(
                    explain(rule.type, rule.name, {
                        property: "target",
                        found: map
                            ? `a proxy whose URL map ${subject(map.type, map.name)} serves traffic over plain HTTP`
                            : `${subject(targets[0].type, targets[0].name)}, not an HTTP proxy with a redirect`,
                        required: "a target HTTP proxy whose URL map only redirects to HTTPS",
                        fix: "give port 80 its own URL map with defaultUrlRedirect { httpsRedirect: true } and nothing else",
                        why: "plain ws:// and http:// traffic is readable in transit, and browsers on an https page refuse ws:// anyway",
                    }),
                    rule.urn,
                );
            }
        }
    },
};
