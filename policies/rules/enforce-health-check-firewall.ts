import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { backendServices, looksServerless } from "../lib/backends";
import { HEALTH_CHECK_RANGES, PASSTHROUGH_HEALTH_CHECK_RANGES } from "../lib/gcp-facts";
import { allowsTcp, cidrCovers, instanceGroupsOf, instanceTagsOf, isOpenIngress, namedPortsOf } from "../lib/groups";
import { describeKind, lbKindOf } from "../lib/lb-kind";
import { list } from "../lib/props";
import { explain, subject } from "../lib/report";
import { T } from "../lib/types";

/** The port the load balancer and its health checks reach on a group: the named port the backend uses, if known. */
function portOn(group: PolicyResource, portName: unknown): number | undefined {
    const ports = namedPortsOf(group);
    return ports?.find(([name]) => name === portName)?.[1];
}

/** Whether a firewall rule lets every range reach the port on the group's instances. */
function lets(
    rule: PolicyResource,
    ranges: readonly string[],
    port: number | undefined,
    tags: string[] | undefined,
): boolean {
    if (!isOpenIngress(rule)) {
        return false;
    }
    const sources = Array.isArray(rule.props.sourceRanges) ? (rule.props.sourceRanges as string[]) : [];
    if (!ranges.every((range) => sources.some((source) => cidrCovers(source, range)))) {
        return false;
    }
    const targets = Array.isArray(rule.props.targetTags) ? (rule.props.targetTags as string[]) : [];
    // No target tags: the rule applies to every instance of its network. Unknown instance tags: trust it.
    if (targets.length > 0 && tags !== undefined && !targets.some((t) => tags.includes(t))) {
        return false;
    }
    return list(rule.props.allows).some((allow) => allowsTcp(allow, port));
}

export const enforceHealthCheckFirewall: StackValidationPolicy = {
    name: "enforce-health-check-firewall",
    description:
        "Instance groups of the stack behind a backend service of any kind of load balancer must be reachable through a firewall rule that lets Google's health-check ranges in on the serving port, or every backend is unhealthy and the load balancer answers 502.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps:
        "Add an INGRESS firewall rule with sourceRanges 35.191.0.0/16 and 130.211.0.0/22 (35.191.0.0/16, 209.85.152.0/22 and 209.85.204.0/22 for an external passthrough Network Load Balancer), allowing tcp on the serving port to the instances' network tag.",
    validateStack: (args, report) => {
        const firewalls = args.resources.filter((r) => r.type === T.firewall);
        const judged = backendServices(args.resources)
            .filter((s) => !looksServerless(s.props))
            .map((service) => ({ service, groups: instanceGroupsOf(service, args.resources) }))
            .filter(({ groups }) => groups.length > 0);
        if (judged.length === 0) {
            args.notApplicable("no backend service of the stack sends to an instance group of the stack");
        }
        for (const { service, groups } of judged) {
            const kind = lbKindOf(service.type, service.props);
            const ranges =
                kind.id === "external-passthrough-nlb" ? PASSTHROUGH_HEALTH_CHECK_RANGES : HEALTH_CHECK_RANGES;
            for (const group of groups) {
                const port = portOn(group, service.props.portName);
                const tags = instanceTagsOf(group, args.resources);
                if (firewalls.some((rule) => lets(rule, ranges, port, tags))) {
                    continue;
                }
                report(
                    explain(service.type, service.name, {
                        property: `backends (${subject(group.type, group.name)})`,
                        found: `no firewall rule of the stack that lets ${ranges.join(", ")} reach tcp${port === undefined ? "" : `:${port}`} on its instances${tags?.length ? ` (tags ${tags.join(", ")})` : ""}`,
                        required:
                            "an enabled INGRESS rule with those source ranges, allowing tcp on the serving port to those instances",
                        fix: `add a compute.Firewall with sourceRanges ${JSON.stringify(ranges)}, allows [{ protocol: "tcp", ports: [${port === undefined ? "the serving port" : `"${port}"`}] }] and the instances' network tag as targetTags`,
                        why: `Google's health checkers for ${describeKind(kind)} connect from those ranges (health-check-concepts, "Probe IP ranges and firewall rules"); blocked probes mark every backend unhealthy`,
                    }),
                    service.urn,
                );
            }
        }
    },
};
