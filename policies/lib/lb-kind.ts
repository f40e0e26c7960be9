// Which load balancer a backend service belongs to. A backend service says so only through three
// things: its loadBalancingScheme, its protocol, and whether it is global or regional. Every rule
// that judges a backend service asks here first, so that advice meant for an Application Load
// Balancer never reaches a Network Load Balancer, where the API refuses it.
//
// Sources, one per distinction:
// - scheme → products: the `LoadBalancingScheme` enum of `BackendService` in
//   node_modules/@google-cloud/compute/build/protos/google/cloud/compute/v1/compute.proto:
//   EXTERNAL is "classic Application Load Balancers, global external proxy Network Load
//   Balancers, or external passthrough Network Load Balancers"; EXTERNAL_MANAGED is "global
//   external Application Load Balancers, regional external Application Load Balancers, or regional
//   external proxy Network Load Balancers"; INTERNAL is "internal passthrough Network Load
//   Balancers"; INTERNAL_MANAGED is "internal Application Load Balancers"; INTERNAL_SELF_MANAGED is
//   Traffic Director (Cloud Service Mesh). The product-and-scheme table of
//   cloud.google.com/load-balancing/docs/backend-service adds that EXTERNAL_MANAGED also serves
//   the global external proxy Network Load Balancer and INTERNAL_MANAGED the internal proxy Network
//   Load Balancers (regional and cross-region).
// - global or regional: the resource type. `gcp:compute/backendService` is a global backend
//   service and `gcp:compute/regionBackendService` a regional one (@pulumi/gcp 9.37
//   compute/backendService.d.ts, compute/regionBackendService.d.ts; backend-service overview: "A
//   backend service is either global or regional in scope"). The passthrough Network Load
//   Balancers exist only with regional backend services (same overview, product table).
// - protocol → Application or Network: the `Protocol` enum in compute.proto. HTTP, HTTPS, HTTP2
//   and H2C are HTTP(S) load balancing; "TCP: TCP proxying or TCP pass-through", "SSL: TCP proxying
//   with SSL", UDP, and UNSPECIFIED "can be used with any L3/L4 Forwarding Rules"; GRPC is for
//   Traffic Director. So under EXTERNAL, EXTERNAL_MANAGED and INTERNAL_MANAGED the protocol is what
//   tells an Application Load Balancer from a proxy Network Load Balancer.
// - defaults when unset: `loadBalancingScheme` is EXTERNAL on a global backend service and
//   INTERNAL on a regional one; `protocol` is HTTP on both (@pulumi/gcp 9.37
//   compute/backendService.d.ts and compute/regionBackendService.d.ts, "Default value is").

import {
    AFFINITIES_BY_KIND,
    DEFAULT_BACKEND_PROTOCOL,
    HASH_LOCALITY_POLICIES_BY_KIND,
    HTTP_PROTOCOLS,
} from "./gcp-facts";
import { ResourceValidationArgs } from "@pulumi/policy";
import { BACKEND_SERVICE_TYPES, T } from "./types";

type Props = Record<string, unknown>;

type LbFamily = "application" | "proxy-network" | "passthrough-network" | "service-mesh" | "unknown";

export const LB_KIND_IDS = [
    "global-external-alb",
    "classic-alb",
    "regional-external-alb",
    "cross-region-internal-alb",
    "regional-internal-alb",
    "global-external-proxy-nlb",
    "classic-proxy-nlb",
    "regional-external-proxy-nlb",
    "cross-region-internal-proxy-nlb",
    "regional-internal-proxy-nlb",
    "external-passthrough-nlb",
    "internal-passthrough-nlb",
    "service-mesh",
    "unknown",
] as const;
export type LbKindId = (typeof LB_KIND_IDS)[number];

export interface LbKind {
    readonly id: LbKindId;
    /** Google's own name for the product, for messages. */
    readonly label: string;
    readonly family: LbFamily;
    readonly scheme: string;
    readonly protocol: string;
    readonly regional: boolean;
    /** The classic Application Load Balancer (or classic proxy Network Load Balancer): EXTERNAL, global. */
    readonly classic: boolean;
    /** The `sessionAffinity` values the API accepts on this kind. */
    readonly affinities: readonly string[];
    /** The `localityLbPolicy` values that hash (and so let affinity work) on this kind; empty when the kind takes none. */
    readonly hashLocalityPolicies: readonly string[];
}

const LABELS: Readonly<Record<LbKindId, string>> = {
    "global-external-alb": "global external Application Load Balancer",
    "classic-alb": "classic Application Load Balancer",
    "regional-external-alb": "regional external Application Load Balancer",
    "cross-region-internal-alb": "cross-region internal Application Load Balancer",
    "regional-internal-alb": "regional internal Application Load Balancer",
    "global-external-proxy-nlb": "global external proxy Network Load Balancer",
    "classic-proxy-nlb": "classic proxy Network Load Balancer",
    "regional-external-proxy-nlb": "regional external proxy Network Load Balancer",
    "cross-region-internal-proxy-nlb": "cross-region internal proxy Network Load Balancer",
    "regional-internal-proxy-nlb": "regional internal proxy Network Load Balancer",
    "external-passthrough-nlb": "external passthrough Network Load Balancer",
    "internal-passthrough-nlb": "internal passthrough Network Load Balancer",
    "service-mesh": "Cloud Service Mesh (Traffic Director)",
    unknown: "unrecognised",
};

const FAMILY: Readonly<Record<LbKindId, LbFamily>> = {
    "global-external-alb": "application",
    "classic-alb": "application",
    "regional-external-alb": "application",
    "cross-region-internal-alb": "application",
    "regional-internal-alb": "application",
    "global-external-proxy-nlb": "proxy-network",
    "classic-proxy-nlb": "proxy-network",
    "regional-external-proxy-nlb": "proxy-network",
    "cross-region-internal-proxy-nlb": "proxy-network",
    "regional-internal-proxy-nlb": "proxy-network",
    "external-passthrough-nlb": "passthrough-network",
    "internal-passthrough-nlb": "passthrough-network",
    "service-mesh": "service-mesh",
    unknown: "unknown",
};

/** Protocols of proxy Network Load Balancers (compute.proto `Protocol`: TCP proxying, SSL proxying). */
const PROXY_PROTOCOLS: readonly string[] = ["TCP", "SSL"];

function idOf(scheme: string, protocol: string, regional: boolean): LbKindId {
    const http = HTTP_PROTOCOLS.includes(protocol) && protocol !== "GRPC";
    const proxy = PROXY_PROTOCOLS.includes(protocol);
    switch (scheme) {
        case "INTERNAL_SELF_MANAGED":
            return "service-mesh";
        case "INTERNAL":
            return regional ? "internal-passthrough-nlb" : "unknown";
        case "EXTERNAL":
            if (regional) {
                return "external-passthrough-nlb";
            }
            return http ? "classic-alb" : proxy ? "classic-proxy-nlb" : "unknown";
        case "EXTERNAL_MANAGED":
            if (http) {
                return regional ? "regional-external-alb" : "global-external-alb";
            }
            return proxy ? (regional ? "regional-external-proxy-nlb" : "global-external-proxy-nlb") : "unknown";
        case "INTERNAL_MANAGED":
            if (http) {
                return regional ? "regional-internal-alb" : "cross-region-internal-alb";
            }
            return proxy ? (regional ? "regional-internal-proxy-nlb" : "cross-region-internal-proxy-nlb") : "unknown";
        default:
            return "unknown";
    }
}

/**
 * The kind of load balancer a backend service belongs to. Reads `loadBalancingScheme` and
 * `protocol` through the SDK's proxy, so an unknown value at preview makes the asking rule say it
 * cannot run, rather than judging the wrong kind.
 */
export function lbKindOf(type: string, props: Props): LbKind {
    const regional = type === T.regionBackendService;
    const scheme =
        typeof props.loadBalancingScheme === "string" ? props.loadBalancingScheme : regional ? "INTERNAL" : "EXTERNAL";
    const protocol = typeof props.protocol === "string" ? props.protocol : DEFAULT_BACKEND_PROTOCOL;
    const id = idOf(scheme, protocol, regional);
    return {
        id,
        label: LABELS[id],
        family: FAMILY[id],
        scheme,
        protocol,
        regional,
        classic: id === "classic-alb" || id === "classic-proxy-nlb",
        affinities: AFFINITIES_BY_KIND[id] ?? [],
        hashLocalityPolicies: HASH_LOCALITY_POLICIES_BY_KIND[id] ?? [],
    };
}

/** "regional backend service with loadBalancingScheme EXTERNAL and protocol TCP", for messages. */
export function describeKind(kind: LbKind): string {
    const article = /^[aeiou]/.test(kind.label) ? "an" : "a";
    return `${article} ${kind.label} backend (loadBalancingScheme ${kind.scheme}, protocol ${kind.protocol}, ${kind.regional ? "regional" : "global"})`;
}

/**
 * What an HTTP-only rule says for a backend service of any other kind; undefined when the backend
 * is an Application Load Balancer's and the rule applies.
 */
export function notApplicationReason(kind: LbKind, what: string): string | undefined {
    if (kind.family === "application") {
        return undefined;
    }
    return `${what} judges Application Load Balancer backends only; this is ${describeKind(kind)}`;
}

/** Ends an HTTP-only rule with "not applicable" for a backend service of a Network Load Balancer or the service mesh. */
export function requireApplication(args: ResourceValidationArgs, what: string): void {
    if (!BACKEND_SERVICE_TYPES.includes(args.type)) {
        return;
    }
    const reason = notApplicationReason(lbKindOf(args.type, args.props), what);
    if (reason) {
        args.notApplicable(reason);
    }
}

/** For rule descriptions and docs/policies.md: which kinds a rule judges. */
export const JUDGES = {
    application:
        "Application Load Balancer backends (global external, classic, regional external, cross-region and regional internal)",
};
