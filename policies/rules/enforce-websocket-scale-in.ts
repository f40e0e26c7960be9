import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { referencedBy, timeoutOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { DEFAULT_INSTANCE_REDISTRIBUTION, SCALE_IN_CONTROL_FIELD } from "../lib/gcp-facts";
import { lastSegment, list, peek, record, UNKNOWN } from "../lib/props";
import { explain, subject } from "../lib/report";
import { AUTOSCALER_TYPES, MIG_TYPES, T } from "../lib/types";
import { routingMaps, websocketRoutes } from "../lib/urlmaps";

/** Whether a link (self link, id or name) names this resource. */
function names(link: unknown, resource: PolicyResource): boolean {
    if (typeof link !== "string") {
        return false;
    }
    const tail = lastSegment(link);
    return peek((): unknown => resource.props.name) === tail || resource.name === tail;
}

/** The managed instance groups behind a backend service: through its dependencies, or by name. */
function groupsOf(backend: PolicyResource, stack: PolicyResource[]): PolicyResource[] {
    const found = new Set(referencedBy(backend, "backends").filter((r) => MIG_TYPES.includes(r.type)));
    const backends = peek(() => list(backend.props.backends));
    if (backends !== UNKNOWN) {
        const migs = stack.filter((r) => MIG_TYPES.includes(r.type));
        backends.forEach((_, i) => {
            const group = peek(() => list(backend.props.backends)[i].group);
            migs.filter((mig) => names(group, mig)).forEach((mig) => found.add(mig));
        });
    }
    return [...found];
}

function autoscalersOf(mig: PolicyResource, stack: PolicyResource[]): PolicyResource[] {
    return stack.filter(
        (r) =>
            AUTOSCALER_TYPES.includes(r.type) &&
            (referencedBy(r, "target").includes(mig) ||
                names(
                    peek((): unknown => r.props.target),
                    mig,
                )),
    );
}

/** The backend services WebSocket paths reach; with an unknown reference, the map's backends that hold a socket that long. */
function websocketBackends(maps: PolicyResource[], websocketPaths: string[], minTimeoutSec: number): PolicyResource[] {
    const found = new Set<PolicyResource>();
    for (const map of maps) {
        for (const route of websocketRoutes(map, websocketPaths)) {
            const reached = route.known
                ? [route.known]
                : route.backends.filter((b) => timeoutOf(b.props) >= minTimeoutSec);
            reached.forEach((b) => found.add(b));
        }
    }
    return [...found];
}

const WHY =
    "a VM the group removes takes every WebSocket it holds with it once the backend service's connectionDrainingTimeoutSec runs out, however long the route lets a socket live";

export const enforceWebsocketScaleIn: StackValidationPolicy = {
    name: "enforce-websocket-scale-in",
    description:
        "A managed instance group behind a WebSocket backend should not remove VMs on its own: a regional group should not redistribute proactively (the API's default) and its autoscaler should bound scale-in with scaleInControl, because each removed VM cuts the day-long sockets it holds once connection draining ends.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "On a regional managed instance group, set updatePolicy.instanceRedistributionType to NONE (Google's API text describes NONE for groups without an autoscaler); on its autoscaler set autoscalingPolicy.scaleInControl with a small maxScaledInReplicas and a timeWindowSec, so scale-in removes few VMs at a time. Source: compute.proto in @google-cloud/compute (InstanceGroupManagerUpdatePolicy, AutoscalingPolicyScaleInControl).",
    configSchema: schemaFor("websocketPaths", "minTimeoutSec"),
    validateStack: (args, report) => {
        const { websocketPaths, minTimeoutSec } = settingsFrom(
            () => args.getConfig(),
            "websocketPaths",
            "minTimeoutSec",
        );
        const backends = websocketBackends(routingMaps(args), websocketPaths, minTimeoutSec);
        const migs = new Map<PolicyResource, PolicyResource>();
        backends.forEach((b) => groupsOf(b, args.resources).forEach((mig) => migs.set(mig, b)));
        if (migs.size === 0) {
            args.notApplicable("no managed instance group behind a WebSocket backend");
        }
        for (const [mig, backend] of migs) {
            const behind = `behind WebSocket backend ${subject(backend.type, backend.name)}`;
            const redistribution: unknown = record(mig.props.updatePolicy)?.instanceRedistributionType;
            const autoscalers = autoscalersOf(mig, args.resources);
            if (mig.type === T.regionInstanceGroupManager && redistribution !== "NONE") {
                report(
                    explain(mig.type, mig.name, {
                        property: "updatePolicy.instanceRedistributionType",
                        found: `${redistribution === undefined ? `unset (${DEFAULT_INSTANCE_REDISTRIBUTION}, the API's default)` : JSON.stringify(redistribution)} ${behind}`,
                        required: "NONE",
                        fix:
                            autoscalers.length > 0
                                ? 'set updatePolicy.instanceRedistributionType: "NONE" (Google\'s API text describes NONE for groups without an autoscaler, so with one also bound scale-in with scaleInControl)'
                                : 'set updatePolicy.instanceRedistributionType: "NONE"',
                        why: `PROACTIVE redistribution deletes VMs in the fuller zone to even out the zones, and ${WHY}`,
                    }),
                    mig.urn,
                );
            }
            for (const autoscaler of autoscalers) {
                if (record(record(autoscaler.props.autoscalingPolicy)?.[SCALE_IN_CONTROL_FIELD]) === undefined) {
                    report(
                        explain(autoscaler.type, autoscaler.name, {
                            property: `autoscalingPolicy.${SCALE_IN_CONTROL_FIELD}`,
                            found: `unset, on the autoscaler of ${subject(mig.type, mig.name)} ${behind}`,
                            required: "a scaleInControl with maxScaledInReplicas and timeWindowSec",
                            fix: "set autoscalingPolicy.scaleInControl: { maxScaledInReplicas: { fixed: 1 }, timeWindowSec: 3600 } or similar",
                            why: `without it the autoscaler removes as many VMs as its recommendation drops, and ${WHY}`,
                        }),
                        autoscaler.urn,
                    );
                }
            }
        }
    },
};
