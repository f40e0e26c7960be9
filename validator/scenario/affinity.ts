import WebSocket from "ws";
import { FlagError } from "../../cli/kit";
import { Failure, failure, closeSocket, ConnectOptions, openSocket, SocketPool, endpointUrl } from "../core";
import { rawText } from "./connection";
import { fieldAt } from "./template";

// Session affinity, checked from outside: take the load balancer's affinity cookie from a 101,
// reconnect with it and see whether every reconnection reaches the same backend; then reconnect
// without it and count the backends that answer. With GENERATED_COOKIE the load balancer's cookie
// is named GCLB (cloud.google.com/load-balancing/docs/backend-service, "Generated cookie affinity";
// not re-read here, so treat the name as inferred and override it with --affinity-cookie).
// HTTP_COOKIE and STRONG_COOKIE_AFFINITY use the configured name
// (node_modules/@pulumi/gcp/types/input.d.ts, BackendServiceConsistentHashHttpCookie.name and
// BackendServiceStrongSessionAffinityCookie.name). That the cookie comes with the 101 answer to a
// WebSocket upgrade is inferred: the upgrade is an HTTP request like any other to the proxy.

export const DEFAULT_AFFINITY_COOKIE = "GCLB";

/** Where a connection learns which backend answered it. */
export type BackendIdSource =
    { readonly kind: "header"; readonly name: string } | { readonly kind: "json"; readonly path: string };

export function parseBackendIdSource(text: string): BackendIdSource {
    const match = /^(header|json):(.+)$/.exec(text.trim());
    if (!match) {
        throw new FlagError(
            `--backend-id ${JSON.stringify(text)}: expected header:NAME (a 101 response header) or json:FIELD (a field of the first message), such as header:x-backend-id or json:server`,
        );
    }
    return match[1] === "header" ? { kind: "header", name: match[2].toLowerCase() } : { kind: "json", path: match[2] };
}

export interface AffinityOptions {
    /** Reconnections with the cookie (and as many without). */
    readonly reconnects: number;
    readonly cookieName: string;
    readonly backendId: BackendIdSource;
    readonly path: string;
}

export interface AffinityResult {
    readonly path: string;
    readonly cookieName: string;
    /** The Set-Cookie the first 101 carried for the affinity cookie, attributes included. */
    readonly setCookie?: string;
    readonly firstBackend?: string;
    /** Backend of each reconnection that sent the cookie, in order. */
    readonly withCookie: string[];
    /** Connections per backend without the cookie. */
    readonly withoutCookie: Record<string, number>;
    readonly verdict: "sticky" | "not-sticky" | "no-cookie" | "no-backend-id" | "error";
    readonly summary: string;
    readonly failures: Failure[];
}

type Options = ConnectOptions & { readonly sockets: SocketPool; readonly messageTimeoutMs: number };

interface Visit {
    readonly backend?: string;
    readonly setCookie: string[];
    readonly failure?: Failure;
}

/** One connection: which backend answered, and the cookies its 101 set. */
async function visit(url: string, source: BackendIdSource, options: Options, cookie?: string): Promise<Visit> {
    let first: Promise<string | undefined> = Promise.resolve(undefined);
    const headers = { ...options.headers };
    if (cookie) {
        const existing = Object.keys(headers).find((h) => h.toLowerCase() === "cookie");
        headers[existing ?? "Cookie"] = existing ? `${headers[existing]}; ${cookie}` : cookie;
    }
    const opened = await openSocket(url, {
        ...options,
        headers,
        onSocket: (ws: WebSocket) => {
            first = new Promise((resolve) => {
                const timer = setTimeout(() => resolve(undefined), options.messageTimeoutMs);
                ws.once("message", (data: WebSocket.RawData) => {
                    clearTimeout(timer);
                    resolve(rawText(data));
                });
                ws.once("close", () => {
                    clearTimeout(timer);
                    resolve(undefined);
                });
            });
        },
    });
    if (!opened.ok) {
        return { setCookie: [], failure: opened.failure };
    }
    try {
        const raw = opened.headers["set-cookie"];
        const setCookie = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
        let backend: string | undefined;
        if (source.kind === "header") {
            const value = opened.headers[source.name];
            backend = Array.isArray(value) ? value[0] : value;
        } else {
            const text = await first;
            try {
                const value = text === undefined ? undefined : fieldAt(JSON.parse(text), source.path);
                backend =
                    value === undefined || value === null
                        ? undefined
                        : typeof value === "string"
                          ? value
                          : JSON.stringify(value);
            } catch {
                backend = undefined;
            }
        }
        return { backend, setCookie };
    } finally {
        await closeSocket(opened.ws);
    }
}

const describeSource = (s: BackendIdSource) =>
    s.kind === "header" ? `response header ${s.name}` : `field ${s.path} of the first message`;

/** `count` connections, with the cookie if given: the backend of each that opened, and the failures of the rest. */
async function reconnect(
    url: string,
    affinity: AffinityOptions,
    options: Options,
    cookie?: string,
): Promise<{ backends: string[]; failures: Failure[] }> {
    const backends: string[] = [];
    const failures: Failure[] = [];
    for (let i = 0; i < affinity.reconnects; i++) {
        const v = await visit(url, affinity.backendId, options, cookie);
        if (v.failure) {
            failures.push(v.failure);
        } else {
            backends.push(v.backend ?? "(unnamed)");
        }
    }
    return { backends, failures };
}

type Base = Pick<AffinityResult, "path" | "cookieName" | "withCookie" | "withoutCookie">;

/** The verdict once the reconnections with the cookie are in. */
function sticky(
    base: Base & { setCookie: string; firstBackend: string },
    withCookie: string[],
    failures: Failure[],
    spread: string,
): AffinityResult {
    const { cookieName, firstBackend } = base;
    const strays = withCookie.filter((b) => b !== firstBackend);
    if (strays.length > 0) {
        const broken = failure(
            "AFFINITY_BROKEN",
            `${strays.length} of ${withCookie.length} reconnection(s) that sent ${cookieName} reached another backend than ${firstBackend}: ${JSON.stringify(withCookie)}`,
            { expected: firstBackend, received: strays.join(", ") },
        );
        return {
            ...base,
            withCookie,
            verdict: "not-sticky",
            summary: `${broken.message}; ${spread}`,
            failures: [broken, ...failures],
        };
    }
    const spreadNote =
        Object.keys(base.withoutCookie).length <= 1 ? " (only one backend answered, so stickiness is unproven)" : "";
    return {
        ...base,
        withCookie,
        verdict: failures.length > 0 ? "error" : "sticky",
        summary: `all ${withCookie.length} reconnection(s) with ${cookieName} reached ${firstBackend}; ${spread}${spreadNote}`,
        failures,
    };
}

function countBy(names: readonly string[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of names) {
        counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
}

/** Runs the affinity check on one path of a base URL. */
export async function checkAffinity(
    baseUrl: string,
    affinity: AffinityOptions,
    options: Options,
): Promise<AffinityResult> {
    const url = endpointUrl(baseUrl, affinity.path);
    const base = { path: affinity.path, cookieName: affinity.cookieName, withCookie: [], withoutCookie: {} };
    const first = await visit(url, affinity.backendId, options);
    if (first.failure) {
        const summary = `the first connection failed: ${first.failure.message}`;
        return { ...base, verdict: "error", summary, failures: [first.failure] };
    }
    if (first.backend === undefined) {
        const f = failure(
            "AFFINITY_NO_BACKEND_ID",
            `the first connection named no backend in its ${describeSource(affinity.backendId)}; set --backend-id to where the backend names itself`,
        );
        return { ...base, verdict: "no-backend-id", summary: f.message, failures: [f] };
    }
    const setCookie = first.setCookie.find((c) => c.startsWith(`${affinity.cookieName}=`));

    // Without the cookie: how many backends answer at all (one means stickiness proves nothing).
    const without = await reconnect(url, affinity, options);
    const withoutCookie = countBy(without.backends);
    const spread = `without the cookie ${affinity.reconnects} connection(s) reached ${Object.keys(withoutCookie).length} backend(s) ${JSON.stringify(withoutCookie)}`;
    if (!setCookie) {
        const names = first.setCookie.map((c) => c.split("=")[0]);
        const f = failure(
            "AFFINITY_NO_COOKIE",
            `the 101 from ${first.backend} set no ${affinity.cookieName} cookie (cookies set: ${names.join(", ") || "none"}); is session affinity GENERATED_COOKIE, or does --affinity-cookie name the configured cookie?`,
        );
        return {
            ...base,
            withoutCookie,
            firstBackend: first.backend,
            verdict: "no-cookie",
            summary: `${f.message}; ${spread}`,
            failures: [f, ...without.failures],
        };
    }
    const withCookie = await reconnect(url, affinity, options, setCookie.split(";")[0]);
    return sticky(
        { ...base, setCookie, firstBackend: first.backend, withoutCookie },
        withCookie.backends,
        [...without.failures, ...withCookie.failures],
        spread,
    );
}
