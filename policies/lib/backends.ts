import { PolicyResource } from "@pulumi/policy";
import {
    CLOUD_RUN_DEFAULT_REQUEST_TIMEOUT_SEC,
    CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
    DEFAULT_BACKEND_TIMEOUT_SEC,
} from "./gcp-facts";
import { durationSeconds, isSet, lastSegment, list, peek, record, UNKNOWN } from "./props";
import { BACKEND_SERVICE_TYPES, CLOUD_RUN_TYPES, T } from "./types";

type Props = Record<string, unknown>;

const REGIONAL_NEG = /\/regions\/[^/]+\/networkEndpointGroups\/[^/]+$/;

/**
 * Whether a backend service, seen alone, may be backed by serverless NEGs. Serverless NEGs are
 * regional, so a backend whose every group is a regional NEG may be serverless whatever else it
 * sets: a health check there is itself a mistake, which enforce-serverless-backend-limits reports
 * at the stack phase, where the NEG's networkEndpointType is known. Advising timeoutSec or an
 * affinity here would tell it to set what the API refuses on serverless backends. Groups not yet
 * known (a new stack) count as serverless only without a health check, which an instance group or
 * zonal NEG backend needs.
 */
export function looksServerless(props: Props): boolean {
    if (!isSet(props, "backends")) {
        return false;
    }
    const backends = peek(() => list(props.backends));
    if (backends === UNKNOWN) {
        return !isSet(props, "healthChecks");
    }
    if (backends.length === 0) {
        return false;
    }
    // An index loop, not backends.map: remediation hands the rule its properties behind the
    // SDK's secret-aware proxy, where map's species lookup throws on the array's constructor.
    const groups: unknown[] = [];
    for (let i = 0; i < backends.length; i++) {
        groups.push(peek((): unknown => list(props.backends)[i].group));
    }
    const regionalNeg = (group: unknown) => typeof group === "string" && REGIONAL_NEG.test(group);
    if (groups.every(regionalNeg)) {
        return true;
    }
    return !isSet(props, "healthChecks") && groups.every((g) => g === UNKNOWN || regionalNeg(g));
}

/** A forwarding rule's scheme; the API's default is EXTERNAL. Backend services: lbKindOf in lb-kind.ts, whose default depends on scope. */
export function schemeOf(props: Props): string {
    return typeof props.loadBalancingScheme === "string" ? props.loadBalancingScheme : "EXTERNAL";
}

/** A Cloud Run service's request timeout; a service not in the stack is assumed at Cloud Run's ceiling. */
export function cloudRunRequestTimeout(service: PolicyResource | undefined): number {
    if (!service) {
        return CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC;
    }
    const template = record(service.props.template);
    // cloudrunv2 has template.timeout ("300s"); the v1 API has template.spec.timeoutSeconds.
    const seconds = durationSeconds(template?.timeout) ?? durationSeconds(record(template?.spec)?.timeoutSeconds);
    return seconds ?? CLOUD_RUN_DEFAULT_REQUEST_TIMEOUT_SEC;
}

export function timeoutOf(props: Props): number {
    return typeof props.timeoutSec === "number" ? props.timeoutSec : DEFAULT_BACKEND_TIMEOUT_SEC;
}

function isServerlessNeg(resource: PolicyResource): boolean {
    if (resource.type !== T.regionNetworkEndpointGroup) {
        return false;
    }
    const props = resource.props;
    return (
        props.networkEndpointType === "SERVERLESS" ||
        ["cloudRun", "appEngine", "cloudFunction", "serverlessDeployment"].some((k) => isSet(props, k))
    );
}

/** Resources a property points at: its property dependencies, else the resource's dependencies. */
export function referencedBy(resource: PolicyResource, property: string): PolicyResource[] {
    return resource.propertyDependencies[property] ?? resource.dependencies;
}

const serverlessNegsByStack = new WeakMap<readonly PolicyResource[], PolicyResource[]>();

/** The stack's serverless NEGs, found once per stack: stack rules ask for every backend and path. */
function serverlessNegsIn(stack: readonly PolicyResource[]): PolicyResource[] {
    let negs = serverlessNegsByStack.get(stack);
    if (!negs) {
        negs = stack.filter(isServerlessNeg);
        serverlessNegsByStack.set(stack, negs);
    }
    return negs;
}

/**
 * The serverless NEGs behind a backend service, found through its dependencies or, for links
 * written out by hand, by name among the stack's NEGs.
 */
export function serverlessNegsOf(service: PolicyResource, stack: PolicyResource[]): PolicyResource[] {
    const found = new Set(referencedBy(service, "backends").filter(isServerlessNeg));
    const negs = serverlessNegsIn(stack);
    const backends = peek(() => list(service.props.backends));
    if (backends !== UNKNOWN) {
        backends.forEach((_, i) => {
            const group = peek(() => list(service.props.backends)[i].group);
            const named =
                typeof group === "string"
                    ? negs.find((neg) => neg.props.name === lastSegment(group) || neg.name === lastSegment(group))
                    : undefined;
            if (named) {
                found.add(named);
            }
        });
    }
    return [...found];
}

/** The Cloud Run service a serverless NEG sends to, if it is in the stack. */
export function cloudRunServiceOf(neg: PolicyResource, stack: PolicyResource[]): PolicyResource | undefined {
    const viaDeps = (neg.propertyDependencies.cloudRun ?? []).find((r) => CLOUD_RUN_TYPES.includes(r.type));
    if (viaDeps) {
        return viaDeps;
    }
    const name = peek(() => (neg.props.cloudRun as Props | undefined)?.service);
    if (typeof name !== "string") {
        return undefined;
    }
    return stack.find((r) => CLOUD_RUN_TYPES.includes(r.type) && (r.props.name === name || r.name === name));
}

export function backendServices(stack: PolicyResource[]): PolicyResource[] {
    return stack.filter((r) => BACKEND_SERVICE_TYPES.includes(r.type));
}
