// Google Cloud facts the rules and the program rely on. Each constant cites its source in
// ../shared/gcp-websocket-facts.md; the program reads them through ../facts.ts so both sides agree.

/** Backend service `timeoutSec` when unset (compute REST reference, `timeoutSec`). */
export const DEFAULT_BACKEND_TIMEOUT_SEC = 30;
/** Largest `timeoutSec` the API accepts. */
export const MAX_API_TIMEOUT_SEC = 2_147_483_647;
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

/** Only these work on the classic `EXTERNAL` scheme. */
export const CLASSIC_AFFINITIES: readonly string[] = ["NONE", "CLIENT_IP", "GENERATED_COOKIE"];
/** Cookie affinities whose lifetime is `affinityCookieTtlSec`. */
export const TTL_COOKIE_AFFINITIES: readonly string[] = ["GENERATED_COOKIE", "HTTP_COOKIE"];
/** Affinities that take their settings from `consistentHash` and need a hashing locality policy. */
export const HASH_AFFINITIES: readonly string[] = ["HTTP_COOKIE", "HEADER_FIELD"];
export const HASH_LOCALITY_POLICIES: readonly string[] = ["RING_HASH", "MAGLEV"];
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
