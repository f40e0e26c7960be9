// Google Cloud facts the rules and the program rely on. Each constant cites its source in
// ../shared/gcp-websocket-facts.md; the program reads them through ../facts.ts so both sides agree.

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
export type SessionAffinity = (typeof SESSION_AFFINITIES)[number];

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
export const AFFINITIES_BY_SCHEME: Readonly<Record<string, readonly string[]>> = {
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
 * RING_HASH, not only HTTP_COOKIE and HEADER_FIELD.
 */
export const HASH_LOCALITY_POLICIES: readonly string[] = ["RING_HASH", "MAGLEV"];
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
 * `cloudrunv2.Service` defaults `deletionProtection` to true: a destroy that would delete the
 * service fails until it is false (@pulumi/gcp 9.37 cloudrunv2/service.d.ts, field `deletionProtection`).
 */
export const CLOUD_RUN_DELETION_PROTECTION_DEFAULT = true;
