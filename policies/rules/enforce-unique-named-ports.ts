import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { schemaFor, settingsFrom } from "../lib/config";
import { instanceGroupsOf, namedPortsOf, websocketBackends } from "../lib/groups";
import { explain, subject } from "../lib/report";

interface Problem {
    readonly found: string;
    readonly required: string;
    readonly fix: string;
    readonly why: string;
}

/** What is wrong with one group's named ports for one backend service's portName, if anything. */
function problemWith(group: PolicyResource, service: PolicyResource): Problem | undefined {
    const ports = namedPortsOf(group);
    if (ports === undefined) {
        return undefined;
    }
    const portName: unknown = service.props.portName;
    const names = ports.map(([name]) => name);
    const twice = names.filter((name, i) => names.indexOf(name) !== i);
    if (twice.length > 0) {
        return {
            found: `${[...new Set(twice)].map((n) => JSON.stringify(n)).join(", ")} named more than once (${ports.map(([n, p]) => `${n}:${p}`).join(", ")})`,
            required: "each named port name once",
            fix: "give each port its own name and point the backend service's portName at the WebSocket one",
            why: `backend ${subject(service.type, service.name)} resolves portName ${JSON.stringify(portName)} on the group, and a name that stands for two ports forwards to only one of them (gcpdiag gce/WARN/2022_002)`,
        };
    }
    // An unset portName has an API default we found no Google statement of: only a set one is checked.
    if (typeof portName === "string" && !names.includes(portName)) {
        return {
            found: ports.length
                ? `named ports ${names.join(", ")}, none called ${JSON.stringify(portName)}`
                : "no named ports",
            required: `a named port called ${JSON.stringify(portName)}, the portName of ${subject(service.type, service.name)}`,
            fix: `add namedPorts: [{ name: ${JSON.stringify(portName)}, port: <serving port> }] to the group`,
            why: "the named port must be defined on each backend instance group (compute.proto, BackendService.port_name), or the load balancer has no port to send to",
        };
    }
    return undefined;
}

export const enforceUniqueNamedPorts: StackValidationPolicy = {
    name: "enforce-unique-named-ports",
    description:
        "An instance group of the stack behind an Application Load Balancer backend that serves WebSocket paths must define the backend's portName exactly once among its named ports, so the name resolves to one port.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Give every named port of the group a unique name, and define the one the backend service's portName names.",
    configSchema: schemaFor("websocketPaths"),
    validateStack: (args, report) => {
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const pairs = [...websocketBackends(args.resources, websocketPaths)].flatMap((service) =>
            instanceGroupsOf(service, args.resources).map((group) => ({ service, group })),
        );
        if (pairs.length === 0) {
            args.notApplicable("no WebSocket backend of the stack sends to an instance group of the stack");
        }
        const reported = new Set<PolicyResource>();
        for (const { service, group } of pairs) {
            const problem = reported.has(group) ? undefined : problemWith(group, service);
            if (problem) {
                reported.add(group);
                report(explain(group.type, group.name, { property: "namedPorts", ...problem }), group.urn);
            }
        }
    },
};
