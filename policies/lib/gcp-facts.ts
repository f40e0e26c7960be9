// Google Cloud facts the rules and the program rely on, each with its source beside it (a Google
// doc URL, a proto file in a @google-cloud package, the @pulumi/gcp type file), or marked
// inferred; the program reads them through ../facts.ts so both sides agree.

/** Backend service `timeoutSec` when unset (compute REST reference, `timeoutSec`). */
export const DEFAULT_BACKEND_TIMEOUT_SEC = 30;
/** Google advises against more (GFE restarts; gcpdiag lb/BP/2025_002). */
export const RECOMMENDED_MAX_TIMEOUT_SEC = 86_400;
/** Cloud Run ends a request, and so a WebSocket, at its request timeout; this is its ceiling. */
export const CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC = 3_600;
/** Cloud Run's request timeout when the service sets none. */
export const CLOUD_RUN_DEFAULT_REQUEST_TIMEOUT_SEC = 300;
/** `affinityCookieTtlSec` ceiling in the current API (two weeks). */
export const MAX_AFFINITY_COOKIE_TTL_SEC = 1_209_600;
/** `connectionDrainingTimeoutSec` ceiling. */
export const MAX_CONNECTION_DRAINING_SEC = 3_600;

export const SESSION_AFFINITIES = [
    "NONE",
    "CLIENT_IP",
    "CLIENT_IP_PORT_PROTO",
    "CLIENT_IP_PROTO",
    "GENERATED_COOKIE",
    "HEADER_FIELD",
    "HTTP_COOKIE",
    "STRONG_COOKIE_AFFINITY",
    "CLIENT_IP_NO_DESTINATION",
] as const;

/**
 * Affinities the API's enum has but HTTP(S) load balancing cannot use: `CLIENT_IP_PROTO` and
 * `CLIENT_IP_PORT_PROTO` (Compute API `backendServices` reference, `sessionAffinity` enum:
 * "cannot be used for HTTP(S) load balancing") and `CLIENT_IP_NO_DESTINATION` (internal
 * passthrough only). cloud.google.com/compute/docs/reference/rest/v1/backendServices
 */
export const HTTP_UNUSABLE_AFFINITIES: readonly string[] = [
    "CLIENT_IP_PROTO",
    "CLIENT_IP_PORT_PROTO",
    "CLIENT_IP_NO_DESTINATION",
];
/**
 * What each Application Load Balancer scheme accepts. `EXTERNAL_MANAGED`: every cookie and header
 * affinity (cloud.google.com/load-balancing/docs/backend-service, "Session affinity");
 * `STRONG_COOKIE_AFFINITY` works on every Application LB except classic (Cloud Load Balancing
 * release notes, 2024-10-29). Classic `EXTERNAL`: `NONE`, `CLIENT_IP`, `GENERATED_COOKIE` only.
 */
const AFFINITIES_BY_SCHEME: Readonly<Record<string, readonly string[]>> = {
    EXTERNAL_MANAGED: [
        "NONE",
        "CLIENT_IP",
        "GENERATED_COOKIE",
        "HEADER_FIELD",
        "HTTP_COOKIE",
        "STRONG_COOKIE_AFFINITY",
    ],
    EXTERNAL: ["NONE", "CLIENT_IP", "GENERATED_COOKIE"],
};
/**
 * The `sessionAffinity` values the API accepts on each kind of load balancer (ids from
 * lib/lb-kind.ts). cloud.google.com/load-balancing/docs/backend-service, "Session affinity" (its
 * table of options per product), with compute.proto's `SessionAffinity` enum
 * (node_modules/@google-cloud/compute/build/protos/google/cloud/compute/v1/compute.proto):
 * `GENERATED_COOKIE` is "Only valid for HTTP(S) load balancing"; `CLIENT_IP_PROTO` and
 * `CLIENT_IP_PORT_PROTO` "cannot be used for HTTP(S) load balancing"; `CLIENT_IP_NO_DESTINATION`
 * "can only be used for Internal TCP/UDP Load Balancing". Proxy Network Load Balancers take
 * `NONE` and `CLIENT_IP` only (same page: no cookie or header without HTTP, inferred for
 * `HEADER_FIELD` and `HTTP_COOKIE` from their hashing on HTTP fields). `STRONG_COOKIE_AFFINITY`:
 * every Application Load Balancer but classic (release notes, 2024-10-29). Cloud Service Mesh
 * takes the HTTP ones without the strong cookie (backend-service page, same table).
 */
export const AFFINITIES_BY_KIND: Readonly<Record<string, readonly string[]>> = {
    "global-external-alb": AFFINITIES_BY_SCHEME.EXTERNAL_MANAGED,
    "regional-external-alb": AFFINITIES_BY_SCHEME.EXTERNAL_MANAGED,
    "cross-region-internal-alb": AFFINITIES_BY_SCHEME.EXTERNAL_MANAGED,
    "regional-internal-alb": AFFINITIES_BY_SCHEME.EXTERNAL_MANAGED,
    "classic-alb": AFFINITIES_BY_SCHEME.EXTERNAL,
    "global-external-proxy-nlb": ["NONE", "CLIENT_IP"],
    "classic-proxy-nlb": ["NONE", "CLIENT_IP"],
    "regional-external-proxy-nlb": ["NONE", "CLIENT_IP"],
    "cross-region-internal-proxy-nlb": ["NONE", "CLIENT_IP"],
    "regional-internal-proxy-nlb": ["NONE", "CLIENT_IP"],
    "external-passthrough-nlb": ["NONE", "CLIENT_IP", "CLIENT_IP_PROTO", "CLIENT_IP_PORT_PROTO"],
    "internal-passthrough-nlb": [
        "NONE",
        "CLIENT_IP",
        "CLIENT_IP_PROTO",
        "CLIENT_IP_PORT_PROTO",
        "CLIENT_IP_NO_DESTINATION",
    ],
    "service-mesh": ["NONE", "CLIENT_IP", "GENERATED_COOKIE", "HEADER_FIELD", "HTTP_COOKIE"],
    unknown: [],
};
/**
 * The hashing `localityLbPolicy` values each kind accepts, without which affinity "will not take
 * effect" (@pulumi/gcp 9.37 compute/regionBackendService.d.ts, field `localityLbPolicy`, which
 * names MAGLEV, WEIGHTED_MAGLEV and RING_HASH). Which kinds take the field at all: compute.proto,
 * `BackendService.locality_lb_policy`, "applicable to" a regional backend service with protocol
 * HTTP, HTTPS, HTTP2 or H2C and INTERNAL_MANAGED, and a global one with INTERNAL_SELF_MANAGED,
 * INTERNAL_MANAGED or EXTERNAL_MANAGED; the provider adds a regional EXTERNAL one (the external
 * passthrough Network Load Balancer), where "Only MAGLEV and WEIGHTED_MAGLEV values are possible"
 * and MAGLEV is the default (regionBackendService.d.ts, same field; compute.proto's enum says of
 * WEIGHTED_MAGLEV "only supported in Network Load Balancing"). The regional external Application
 * Load Balancer is in neither list; it is kept here as the pack judged it before (inferred). The
 * regional proxy Network Load Balancers (TCP) are outside the proto's regional clause, classic is
 * in neither list, and the internal passthrough one takes only WEIGHTED_GCP_RENDEZVOUS
 * (compute.proto enum), which is no affinity hash: all get an empty list.
 */
export const HASH_LOCALITY_POLICIES_BY_KIND: Readonly<Record<string, readonly string[]>> = {
    "global-external-alb": ["RING_HASH", "MAGLEV"],
    "regional-external-alb": ["RING_HASH", "MAGLEV"],
    "cross-region-internal-alb": ["RING_HASH", "MAGLEV"],
    "regional-internal-alb": ["RING_HASH", "MAGLEV"],
    "global-external-proxy-nlb": ["RING_HASH", "MAGLEV"],
    "cross-region-internal-proxy-nlb": ["RING_HASH", "MAGLEV"],
    "service-mesh": ["RING_HASH", "MAGLEV"],
    "external-passthrough-nlb": ["MAGLEV", "WEIGHTED_MAGLEV"],
    "classic-alb": [],
    "classic-proxy-nlb": [],
    "regional-external-proxy-nlb": [],
    "regional-internal-proxy-nlb": [],
    "internal-passthrough-nlb": [],
    unknown: [],
};
/** The `localityLbPolicy` a kind uses when it is unset and affinity is on (regionBackendService.d.ts: MAGLEV on external passthrough). */
export const DEFAULT_HASH_LOCALITY_POLICY_BY_KIND: Readonly<Record<string, string>> = {
    "external-passthrough-nlb": "MAGLEV",
};

/**
 * Where Google's health checkers connect from, by kind of load balancer
 * (cloud.google.com/load-balancing/docs/health-check-concepts, "Probe IP ranges and firewall
 * rules"): 35.191.0.0/16 and 130.211.0.0/22 for Application, proxy Network and internal
 * passthrough Network Load Balancers; 35.191.0.0/16, 209.85.152.0/22 and 209.85.204.0/22 for the
 * external passthrough Network Load Balancer.
 */
export const HEALTH_CHECK_RANGES: readonly string[] = ["35.191.0.0/16", "130.211.0.0/22"];
export const PASSTHROUGH_HEALTH_CHECK_RANGES: readonly string[] = [
    "35.191.0.0/16",
    "209.85.152.0/22",
    "209.85.204.0/22",
];

/** Only these work on the classic `EXTERNAL` scheme. */
export const CLASSIC_AFFINITIES: readonly string[] = AFFINITIES_BY_SCHEME.EXTERNAL;
/** Cookie affinities whose lifetime is `affinityCookieTtlSec`. */
export const TTL_COOKIE_AFFINITIES: readonly string[] = ["GENERATED_COOKIE", "HTTP_COOKIE"];
/**
 * Affinities that take their settings from `consistentHash` and so need a hashing locality policy
 * to work at all (@pulumi/gcp 9.37 compute/backendService.d.ts, fields `consistentHash` and
 * `localityLbPolicy`).
 */
export const HASH_AFFINITIES: readonly string[] = ["HTTP_COOKIE", "HEADER_FIELD"];
/**
 * "If sessionAffinity is not NONE, and localityLbPolicy is not set to MAGLEV, WEIGHTED_MAGLEV, or
 * RING_HASH, session affinity settings will not take effect" (@pulumi/gcp 9.37
 * compute/backendService.d.ts, field `localityLbPolicy`, from the Compute API reference). gcpdiag
 * rule lb/BP/2022_001 ("LocalityLbPolicy compatible with sessionAffinity",
 * gcpdiag.dev/rules/lb/BP/2022_001) flags every affinity other than NONE without MAGLEV or
 * RING_HASH, not only HTTP_COOKIE and HEADER_FIELD. Which of them a backend may set depends on its
 * kind: HASH_LOCALITY_POLICIES_BY_KIND.
 */
export const HASH_LOCALITY_POLICIES: readonly string[] = ["RING_HASH", "MAGLEV", "WEIGHTED_MAGLEV"];
/**
 * The locality policy the program pairs with affinity. The provider's own example of
 * `STRONG_COOKIE_AFFINITY` on `EXTERNAL_MANAGED` sets `RING_HASH` (@pulumi/gcp 9.37
 * compute/backendService.d.ts, example "Backend Service Stateful Session Affinity").
 */
export const AFFINITY_LOCALITY_POLICY = "RING_HASH";
/**
 * Schemes of a global backend service that take `localityLbPolicy`. The provider's list names
 * `INTERNAL_SELF_MANAGED` and its examples use `EXTERNAL_MANAGED`; the classic `EXTERNAL` global
 * backend service is in neither (@pulumi/gcp 9.37 compute/backendService.d.ts, field
 * `localityLbPolicy`), so on the classic scheme affinity cannot satisfy lb/BP/2022_001 (inferred
 * from that list: no Google page we found says "not supported on classic" in so many words).
 */
export const LOCALITY_POLICY_SCHEMES: readonly string[] = [
    "EXTERNAL_MANAGED",
    "INTERNAL_SELF_MANAGED",
    "INTERNAL_MANAGED",
];
/**
 * Where `consistentHash` applies. Google's API text (compute.proto in @google-cloud/compute 7.8.0,
 * `BackendService.consistent_hash`) names exactly two cases: a regional backend service with an
 * HTTP-family protocol and `INTERNAL_MANAGED`, and a global one with `INTERNAL_SELF_MANAGED`;
 * @pulumi/gcp 9.37 (compute/backendService.d.ts) names only the latter. No Google text we found
 * says it applies to `EXTERNAL_MANAGED`, so the pack never advises it there.
 */
export const CONSISTENT_HASH_SCHEMES: Readonly<Record<"global" | "regional", readonly string[]>> = {
    global: ["INTERNAL_SELF_MANAGED"],
    regional: ["INTERNAL_MANAGED"],
};

/** Internal passthrough only; an external Application Load Balancer rejects it. */
export const INTERNAL_ONLY_AFFINITIES: readonly string[] = ["CLIENT_IP_NO_DESTINATION"];

export const LOAD_BALANCING_SCHEMES = ["EXTERNAL_MANAGED", "EXTERNAL"] as const;
export type LoadBalancingScheme = (typeof LOAD_BALANCING_SCHEMES)[number];

/** Custom header names the load balancer refuses (custom-headers documentation). */
export const FORBIDDEN_HEADER_NAMES: readonly string[] = [
    "connection",
    "upgrade",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "proxy-authorization",
    "proxy-authenticate",
    "x-user-ip",
    "cdn-loop",
];
export const FORBIDDEN_HEADER_PREFIXES: readonly string[] = ["x-google", "x-goog-", "x-gfe", "x-amz-"];

/** RFC 7230 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Why a header name cannot be used as a custom header, or undefined when it can.
 * The answer is one clause meant to follow "header <name> ".
 */
export function headerNameProblem(name: string): string | undefined {
    if (!HEADER_NAME.test(name)) {
        return "is not a valid HTTP header name";
    }
    const lower = name.toLowerCase();
    if (FORBIDDEN_HEADER_NAMES.includes(lower)) {
        return lower === "connection" || lower === "upgrade"
            ? "is hop-by-hop: the API rejects it, and the load balancer proxies the WebSocket Upgrade natively without it"
            : "is a hop-by-hop or reserved header the load balancer refuses";
    }
    const prefix = FORBIDDEN_HEADER_PREFIXES.find((p) => lower.startsWith(p));
    if (prefix) {
        return `starts with the reserved prefix "${prefix}"`;
    }
    return undefined;
}

/**
 * Header names a URL map's `headerAction` may neither add nor remove: `Host` and `:authority`
 * ("The header name must not be Host or authority", cloud.google.com/load-balancing/docs/https/custom-headers-regional
 * and .../l7-internal/custom-headers, the URL-map pages Google publishes; the global external ALB's
 * page, cloud.google.com/load-balancing/docs/https/custom-headers-global, sends URL-map header
 * transformations to .../https/setting-up-global-traffic-mgmt#request-response-headers and lists the
 * same name rules for backend services, so that the URL-map rule holds there too is inferred).
 */
export const URL_MAP_UNTOUCHABLE_HEADERS: readonly string[] = ["host", ":authority"];
/**
 * Hop-by-hop header families a URL map must not add: every `Proxy-*` header beside the names in
 * FORBIDDEN_HEADER_NAMES. Google's custom-header pages name Proxy-Authorization and
 * Proxy-Authenticate, which address the next proxy and not the origin (RFC 9110 sections 11.7.1
 * and 11.7.2); that the whole prefix is refused is inferred.
 */
export const HOP_BY_HOP_PREFIXES: readonly string[] = ["proxy-"];
/**
 * Request headers the WebSocket opening handshake is made of: `Upgrade: websocket`,
 * `Connection: Upgrade` and the `Sec-WebSocket-*` family (RFC 6455 section 4.1). A route that
 * removes one of them before the backend sees the request turns the upgrade into a plain request,
 * which the backend answers 400 or 426.
 */
export const WEBSOCKET_HANDSHAKE_HEADERS: readonly string[] = ["upgrade", "connection"];
export const WEBSOCKET_HANDSHAKE_PREFIXES: readonly string[] = ["sec-websocket-"];

/**
 * Why a URL-map path pattern is invalid, or undefined when it is valid: each path starts with
 * `/` and `*` may appear only at the end, right after a `/` (url-map-concepts, path matchers).
 */
export function pathPatternProblem(path: string): string | undefined {
    if (!path.startsWith("/")) {
        return "does not start with /";
    }
    const star = path.indexOf("*");
    if (star !== -1 && (star !== path.length - 1 || !path.endsWith("/*"))) {
        return "has * somewhere other than right after a final /";
    }
    if (/\s/.test(path)) {
        return "contains whitespace";
    }
    return undefined;
}

/** `/x/*` does not match `/x`: the exact path a wildcard needs beside it, if any. */
export function wildcardBase(path: string): string | undefined {
    if (!path.endsWith("/*") || path === "/*") {
        return undefined;
    }
    return path.slice(0, -2);
}

/** Whether a URL-map path pattern matches a concrete request path. */
export function pathMatches(pattern: string, requestPath: string): boolean {
    if (pattern.endsWith("/*")) {
        return requestPath.startsWith(pattern.slice(0, -1));
    }
    return pattern === requestPath;
}

/**
 * Backend service protocols that carry a WebSocket. The load balancer proxies the HTTP/1.1 Upgrade
 * natively (cloud.google.com/load-balancing/docs/https, "WebSocket support"). HTTP/2 has no
 * Upgrade mechanism (RFC 9113, "The Upgrade Header Field": HTTP/2 does not support 101 Switching
 * Protocols), and WebSockets over HTTP/2 need RFC 8441, which we found no sign of Google's load
 * balancers implementing; users report a 503 on a WebSocket through an H2C backend
 * (github.com/spellshift/realm/issues/726). So an `HTTP2`, `H2C` or `GRPC` backend cannot take one.
 * UNCONFIRMED from Google's own text: we recall the "WebSocket support" section saying "HTTP or
 * HTTPS, not HTTP/2, as the protocol to the backend", but the stored copies we could search did
 * not include it; the rest is inferred from the RFCs and the report.
 */
export const WEBSOCKET_BACKEND_PROTOCOLS: readonly string[] = ["HTTP", "HTTPS"];
/** Backend service protocols of HTTP(S) load balancing (@pulumi/gcp 9.37 compute/backendService.d.ts, field `protocol`); TCP, SSL and UDP are proxy or passthrough network load balancing. */
export const HTTP_PROTOCOLS: readonly string[] = ["HTTP", "HTTPS", "HTTP2", "H2C", "GRPC"];
/** A backend service's `protocol` when unset (@pulumi/gcp 9.37 compute/backendService.d.ts, field `protocol`: "Default value is `HTTP`"). */
export const DEFAULT_BACKEND_PROTOCOL = "HTTP";

/**
 * Fields of `backends[]` that a backend service in front of serverless NEGs must not set: no
 * balancing mode and no capacity settings (cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts,
 * limitations). Health checks are refused as well (same page). `capacityScaler` is left out: we
 * found no Google statement either way.
 */
export const SERVERLESS_REJECTED_BACKEND_FIELDS: readonly string[] = [
    "balancingMode",
    "maxRate",
    "maxRatePerInstance",
    "maxRatePerEndpoint",
    "maxUtilization",
    "maxConnections",
    "maxConnectionsPerInstance",
    "maxConnectionsPerEndpoint",
    "maxInFlightRequests",
    "maxInFlightRequestsPerInstance",
    "maxInFlightRequestsPerEndpoint",
];
/** A serverless NEG backend's load balancer timeout is fixed at 60 minutes (serverless-neg-concepts). */
export const SERVERLESS_LB_TIMEOUT_SEC = 3_600;

/**
 * Balancing modes. `RATE` counts requests per second, so a socket that stays open for hours
 * counts once, when it opens (@pulumi/gcp 9.37 types/input.d.ts, `BackendServiceBackend.maxRatePerInstance`:
 * "max requests per second"). `IN_FLIGHT` balances on requests in flight, the mode built for
 * long-lived requests, but its fields (`maxInFlightRequests*`, `trafficDuration`) are marked
 * "(Optional, Beta)" in @pulumi/gcp 9.37 types/input.d.ts, `BackendServiceBackend`, and Google's
 * v1beta client lists it (cloud.google.com/python/docs/reference/google-cloud-compute-v1beta,
 * `Backend.BalancingMode`). So the program stays on GA `RATE`.
 */
export const IN_FLIGHT_BALANCING_MODE = "IN_FLIGHT";

/**
 * Request headers the global external Application Load Balancer sets on its own: `Via: 1.1
 * google`, `X-Forwarded-For` (client IP, load balancer IP), `X-Forwarded-Proto` (`http` or
 * `https`) and `X-Cloud-Trace-Context` (cloud.google.com/load-balancing/docs/https, "HTTP
 * headers"). UNCONFIRMED here: the stored copies of that page we could search did not include the
 * section, so this list is from that page as we know it and must be re-checked.
 */
export const LB_SET_REQUEST_HEADERS: readonly string[] = [
    "via",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-cloud-trace-context",
];

/**
 * Zones of some regions, for the default `distributionPolicyZones` of a regional managed instance
 * group (cloud.google.com/compute/docs/regions-zones, "Available regions and zones"). Zone letters
 * differ per region (us-east1 has no zone a), so a region not listed needs `zones` in config.
 */
export const REGION_ZONES: Readonly<Record<string, readonly string[]>> = {
    "us-central1": ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"],
    "us-east1": ["us-east1-b", "us-east1-c", "us-east1-d"],
    "us-east4": ["us-east4-a", "us-east4-b", "us-east4-c"],
    "us-west1": ["us-west1-a", "us-west1-b", "us-west1-c"],
    "europe-west1": ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
    "europe-west4": ["europe-west4-a", "europe-west4-b", "europe-west4-c"],
    "asia-east1": ["asia-east1-a", "asia-east1-b", "asia-east1-c"],
};
/**
 * A regional managed instance group's `maxSurgeFixed` (and `maxUnavailableFixed`) must be 0 or at
 * least the number of zones it spans (cloud.google.com/compute/docs/instance-groups/rolling-out-updates-to-managed-instance-groups,
 * "Max surge": for regional MIGs a fixed value is spread across zones). The program pins the zones
 * (`distributionPolicyZones`, @pulumi/gcp 9.37 compute/regionInstanceGroupManager.d.ts) and surges
 * by exactly their count.
 */
export function regionalSurge(zones: readonly string[]): number {
    return zones.length;
}

/**
 * Instances without an external IP reach Artifact Registry only through Cloud NAT or Private
 * Google Access on their subnet (cloud.google.com/nat/docs/overview; cloud.google.com/vpc/docs/private-google-access).
 * A Cloud NAT gateway lives on a Cloud Router in the same network and region, and its
 * `subnetworks[].name` is a subnet's self link (@pulumi/gcp 9.37 compute/routerNat.d.ts, fields
 * `router`, `region`, `sourceSubnetworkIpRangesToNat`; types/input.d.ts `RouterNatSubnetwork.name`).
 */
export const EGRESS_MODES = ["nat", "privateGoogleAccess", "none"] as const;
export type EgressMode = (typeof EGRESS_MODES)[number];

/**
 * The roles a VM that pulls its image and writes logs and metrics needs, and no more:
 * `roles/artifactregistry.reader` to pull (cloud.google.com/artifact-registry/docs/access-control,
 * predefined roles), `roles/logging.logWriter` and `roles/monitoring.metricWriter` for the logging
 * and monitoring agents (cloud.google.com/compute/docs/access/service-accounts, "Default service
 * account": newer organisations no longer grant the default account Editor, through the
 * `iam.automaticIamGrantsForDefaultServiceAccounts` constraint). The VM then uses the
 * `cloud-platform` scope and IAM decides (same page, "Access scopes").
 */
export const VM_SERVICE_ACCOUNT_ROLES: readonly string[] = [
    "roles/artifactregistry.reader",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
];
export const VM_SCOPES: readonly string[] = ["cloud-platform"];
/** A user-managed service account's email (cloud.google.com/iam/docs/service-accounts: `NAME@PROJECT_ID.iam.gserviceaccount.com`). */
export function serviceAccountEmail(accountId: string, project: string): string {
    return `${accountId}@${project}.iam.gserviceaccount.com`;
}
/** The project of an Artifact Registry image, `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE` (artifact-registry docs, "Repository and image names"). */
export function artifactRegistryProject(image: string): string | undefined {
    const match = /^[a-z0-9-]+-docker\.pkg\.dev\/([a-z][a-z0-9-]{4,28}[a-z0-9])\//.exec(image);
    return match ? match[1] : undefined;
}

/**
 * A regional managed instance group's `updatePolicy.instanceRedistributionType` when unset:
 * "PROACTIVE (default): The group attempts to maintain an even distribution of VM instances across
 * zones in the region"; "NONE: For non-autoscaled groups, proactive redistribution is disabled"
 * (compute.proto in @google-cloud/compute 7.8.0, `InstanceGroupManagerUpdatePolicy`). Evening out
 * the zones deletes VMs in the fuller zone, and every socket they hold with them.
 */
export const DEFAULT_INSTANCE_REDISTRIBUTION = "PROACTIVE";
/**
 * An autoscaler without `autoscalingPolicy.scaleInControl` removes as many VMs as its
 * recommendation drops; `scaleInControl` bounds how many it may remove (`maxScaledInReplicas`)
 * within a window (`timeWindowSec`) (compute.proto in @google-cloud/compute 7.8.0,
 * `AutoscalingPolicyScaleInControl`). A removed VM's sockets last only until the backend service's
 * `connectionDrainingTimeoutSec` runs out (cloud.google.com/load-balancing/docs/enabling-connection-draining).
 */
export const SCALE_IN_CONTROL_FIELD = "scaleInControl";

/** One language runtime of Cloud Run functions, with the dates its support ends. */
export interface FunctionRuntime {
    /** The runtime ID, as `buildConfig.runtime` takes it and as a Cloud Run base image path ends. */
    readonly id: string;
    /** First day of the deprecation period: creating and redeploying still work (YYYY-MM-DD, UTC). */
    readonly deprecated?: string;
    /** First day of the decommission period: Google refuses to create or redeploy a function on it. */
    readonly decommissioned?: string;
}

/**
 * The Node.js rows of Google's runtime support schedule for Cloud Run functions, formerly Cloud
 * Functions (2nd gen) (https://cloud.google.com/run/docs/runtimes/function-runtimes, "Runtime
 * support schedule"). What the dates mean: during deprecation a runtime still creates and
 * redeploys; after decommission it does neither (https://cloud.google.com/functions/docs/runtime-support,
 * "Runtime lifecycle"). nodejs26 is listed as Preview, with no dates yet. Runtimes of other
 * languages are not listed here: the pack calls them unknown rather than guess their dates.
 */
export const FUNCTION_RUNTIMES: readonly FunctionRuntime[] = [
    { id: "nodejs26" },
    { id: "nodejs24", deprecated: "2028-04-30", decommissioned: "2028-10-31" },
    { id: "nodejs22", deprecated: "2027-04-30", decommissioned: "2027-10-31" },
    { id: "nodejs20", deprecated: "2026-04-30", decommissioned: "2026-10-30" },
    { id: "nodejs18", deprecated: "2025-04-30", decommissioned: "2025-10-30" },
];

/** Where a runtime stands on a day (YYYY-MM-DD, UTC): the stage its dates put it in, or unknown. */
export function runtimeStage(id: string, day: string): "supported" | "deprecated" | "decommissioned" | "unknown" {
    const runtime = FUNCTION_RUNTIMES.find((r) => r.id === id);
    if (!runtime) {
        return "unknown";
    }
    if (runtime.decommissioned !== undefined && day >= runtime.decommissioned) {
        return "decommissioned";
    }
    return runtime.deprecated !== undefined && day >= runtime.deprecated ? "deprecated" : "supported";
}

/**
 * The runtime the program builds its own functions on: the GA Node.js row above whose
 * decommission is furthest away.
 */
export const FUNCTION_RUNTIME = "nodejs24";

/**
 * The roles a function's own build service account needs (https://cloud.google.com/functions/docs/securing/build-custom-sa,
 * "Grant permissions"): build logs, the built image in Artifact Registry, and reading the source
 * object from Cloud Storage. New projects' default Cloud Build account may lack them (same page).
 */
export const FUNCTION_BUILD_ROLES: readonly string[] = [
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectViewer",
];
// Cloud Armor. A backend security policy (type CLOUD_ARMOR) filters the HTTP requests the global
// external Application Load Balancer sends to a backend service, whatever is behind it: instance
// groups, zonal NEGs and serverless NEGs (Cloud Run) alike
// (https://cloud.google.com/armor/docs/security-policy-overview, "The backends to the backend
// service can be any of the following"; serverless NEGs are protected "when traffic is routed
// through a load balancer").

/** Security policy type that attaches to a backend service (`@pulumi/gcp` compute/securityPolicy.d.ts, `type`). */
export const BACKEND_SECURITY_POLICY_TYPE = "CLOUD_ARMOR";
/**
 * Rule actions of a security policy rule (compute.proto in @google-cloud/compute,
 * `SecurityPolicyRule.action`): allow, deny(STATUS), rate_based_ban, redirect, throttle.
 */
export const RATE_LIMIT_ACTIONS = ["throttle", "rate_based_ban"] as const;
export type RateLimitAction = (typeof RATE_LIMIT_ACTIONS)[number];
/**
 * Statuses a rate limit's `exceedAction` may deny with: `deny(STATUS)`, STATUS 403, 404, 429 or 502
 * (`@pulumi/gcp` types/input.d.ts, `SecurityPolicyRuleRateLimitOptions.exceedAction`); Google
 * recommends 429 (https://cloud.google.com/armor/docs/rate-limiting-overview).
 */
export const RATE_LIMIT_EXCEED_STATUSES: readonly number[] = [403, 404, 429, 502];
/**
 * `rateLimitThreshold.intervalSec` values the API takes (https://cloud.google.com/armor/docs/rate-limiting-overview,
 * thresholds; the same list is what public Terraform modules validate against).
 */
export const RATE_LIMIT_INTERVALS_SEC: readonly number[] = [
    10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600,
];
/** `rateLimitThreshold.count` bounds: throttle 1 to 1,000,000, rate_based_ban 1 to 10,000 (rate-limiting overview). */
export const RATE_LIMIT_MAX_COUNT: Readonly<Record<RateLimitAction, number>> = {
    throttle: 1_000_000,
    rate_based_ban: 10_000,
};
/**
 * A rule's advanced match is a Cloud Armor custom rules language expression (a subset of CEL) of at
 * most five subexpressions (the program's longest has three); `request.headers` is a map keyed by
 * the lower-case header name, so a browser's Origin is `request.headers['origin']`
 * (https://cloud.google.com/armor/docs/rules-language-reference).
 */
export const ORIGIN_HEADER_EXPRESSION = "request.headers['origin']";
/**
 * Preconfigured WAF rule sets (OWASP CRS 3.3) by name, used as
 * `evaluatePreconfiguredWaf('NAME')` (https://cloud.google.com/armor/docs/waf-rules,
 * https://cloud.google.com/armor/docs/configure-waf).
 */
export const PRECONFIGURED_WAF_RULES: readonly string[] = [
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "methodenforcement-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "php-v33-stable",
    "sessionfixation-v33-stable",
    "java-v33-stable",
    "nodejs-v33-stable",
];
/** The priority of a security policy's default rule, matching every source range `*` (`@pulumi/gcp` compute/securityPolicy.d.ts example, "default rule"). */
export const DEFAULT_RULE_PRIORITY = 2_147_483_647;
// What Cloud Armor sees of a WebSocket, inferred: its rules match HTTP request attributes
// (rules-language-reference) and after the 101 the connection carries WebSocket frames, not
// requests, so only the upgrade request is evaluated; no rule sees a message, and a rate limit
// counts handshakes, not messages. No Google page found says anything about frames either way.
// A rule with `preview: true` enforces nothing, its matches are only logged (`@pulumi/gcp`
// types/input.d.ts, `SecurityPolicyRule.preview`).
