import * as net from "net";
import { performance } from "perf_hooks";
import * as tls from "tls";
import WebSocket, { ClientOptions } from "ws";
import { Failure, failure } from "./codes";

export interface ConnectOptions {
    readonly headers?: Record<string, string>;
    readonly origin?: string;
    readonly subprotocols?: string[];
    /** PEM of extra certificate authorities to trust. */
    readonly ca?: string | Buffer;
    /** Skip certificate verification (explicit, and the CLI warns). */
    readonly insecure?: boolean;
    readonly handshakeTimeoutMs: number;
    /**
     * curl's --resolve: connect to `address` for `host:port` while the URL's host still goes in
     * the Host header and TLS SNI and the certificate is verified for it. Proves a load balancer
     * by its IP before DNS points at it.
     */
    readonly resolve?: readonly ResolveEntry[];
}

export interface ResolveEntry {
    readonly host: string;
    readonly port: number;
    readonly address: string;
}

/** The address --resolve gives for a host and port, if any. */
export function resolvedAddress(entries: readonly ResolveEntry[] | undefined, host: string | undefined, port: number | string | undefined): string | undefined {
    const wanted = (host ?? "").toLowerCase();
    return entries?.find((e) => e.host.toLowerCase() === wanted && e.port === Number(port))?.address;
}

/** Where the time to 101 went; undefined phases did not happen (no DNS for an IP, no TLS for ws://). */
export interface HandshakeTimings {
    dnsMs?: number;
    tcpMs?: number;
    tlsMs?: number;
    /** Request sent to 101 received: the server's and the path's share. */
    upgradeMs?: number;
    totalMs: number;
}

export interface Opened {
    readonly ok: true;
    readonly ws: WebSocket;
    readonly timings: HandshakeTimings;
    readonly status: 101;
    readonly protocol: string;
    readonly extensions: string;
    /** performance.now() when the 101 arrived: connection ages count from here. */
    readonly openedAt: number;
    /** The 101 response's headers (Set-Cookie stays a list): where an affinity cookie arrives. */
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Refused {
    readonly ok: false;
    readonly failure: Failure;
    readonly timings: HandshakeTimings;
}

const BODY_EXCERPT_BYTES = 300;
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_|ERR_CERT)/;

/**
 * The sockets one validation run opened and has not closed yet. Each run owns one and ends it
 * when the run ends, however it ends, so no caller has to remember to clean up after it.
 */
export class SocketPool {
    private readonly open = new Set<WebSocket>();

    add(ws: WebSocket): void {
        this.open.add(ws);
        ws.once("close", () => this.open.delete(ws));
    }

    /** Ends every socket still open, at once. */
    terminateAll(): void {
        for (const ws of this.open) {
            ws.terminate();
        }
        this.open.clear();
    }
}

/** What `openSocket` needs besides the connection settings: the run's pool. */
export interface OpenOptions extends ConnectOptions {
    readonly sockets: SocketPool;
    /**
     * Called with the socket as soon as it exists: a server may speak first, and its first
     * message can arrive before a caller awaiting openSocket gets to attach a listener.
     */
    readonly onSocket?: (ws: WebSocket) => void;
}

let notClosed = 0;

/** WebSockets this process created that have not emitted close yet, whatever their pool: for tests. */
export function liveCount(): number {
    return notClosed;
}

export function classify(err: NodeJS.ErrnoException, phase: { secure: boolean; tcpDone: boolean; tlsDone: boolean }, elapsedSec: number): Failure {
    const code = err.code ?? "";
    const evidence = { errorCode: code || undefined, elapsedSec };
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
        return failure("DNS_FAILED", `DNS lookup failed: ${err.message}`, evidence);
    }
    if (code === "ECONNREFUSED") {
        return failure("CONNECTION_REFUSED", `connection refused: ${err.message}`, evidence);
    }
    if (TLS_CODES.test(code) || (phase.secure && phase.tcpDone && !phase.tlsDone)) {
        return failure("TLS_FAILED", `TLS handshake failed: ${err.message}`, evidence);
    }
    if (code === "ECONNRESET" || code === "EPIPE") {
        return failure("CONNECTION_RESET", `connection reset during the handshake: ${err.message}`, evidence);
    }
    if (/handshake has timed out/i.test(err.message)) {
        return failure("HANDSHAKE_TIMEOUT", err.message, evidence);
    }
    return failure("PROTOCOL_ERROR", err.message, evidence);
}

/**
 * Opens one WebSocket and times each phase of its handshake. Never hangs: ws's own handshake
 * timeout plus a hard deadline of ours, and a refused upgrade is read for evidence and then
 * destroyed (ws keeps that socket open once an 'unexpected-response' listener exists).
 */
export function openSocket(url: string, options: OpenOptions): Promise<Opened | Refused> {
    const start = performance.now();
    const since = () => performance.now() - start;
    const timings: HandshakeTimings = { totalMs: 0 };
    const phase = { secure: url.startsWith("wss:"), tcpDone: false, tlsDone: false };
    let requestSentAt: number | undefined;

    const clientOptions: ClientOptions = {
        headers: options.headers,
        origin: options.origin,
        ca: options.ca,
        rejectUnauthorized: !options.insecure,
        handshakeTimeout: options.handshakeTimeoutMs,
        followRedirects: false,
        createConnection: ((connectOptions: net.NetConnectOpts & tls.ConnectionOptions & { socketPath?: string; host?: string }) => {
            let socket: net.Socket;
            // The URL's host keeps naming the server (Host, SNI, certificate); only the dial changes.
            const dial = resolvedAddress(options.resolve, connectOptions.host, connectOptions.port);
            if (phase.secure) {
                // As ws's own tlsConnect: SNI by host name, none for an IP address.
                const servername = connectOptions.servername ?? (net.isIP(connectOptions.host ?? "") ? "" : connectOptions.host);
                socket = tls.connect({ ...connectOptions, ...(dial ? { host: dial } : {}), path: undefined, servername } as tls.ConnectionOptions);
                socket.once("secureConnect", () => {
                    phase.tlsDone = true;
                    timings.tlsMs = since() - (timings.dnsMs ?? 0) - (timings.tcpMs ?? 0);
                });
            } else {
                socket = net.connect({ ...connectOptions, ...(dial ? { host: dial } : {}), path: connectOptions.socketPath } as net.NetConnectOpts);
            }
            socket.once("lookup", () => (timings.dnsMs = since()));
            socket.once("connect", () => {
                phase.tcpDone = true;
                timings.tcpMs = since() - (timings.dnsMs ?? 0);
            });
            return socket;
        }) as unknown as ClientOptions["createConnection"],
    };

    return new Promise((resolve) => {
        let settled = false;
        const ws = new WebSocket(url, options.subprotocols ?? [], clientOptions);
        notClosed += 1;
        ws.once("close", () => (notClosed -= 1));
        options.sockets.add(ws);
        options.onSocket?.(ws);
        let upgradeHeaders: Opened["headers"] = {};
        const finish = (result: Opened | Refused) => {
            if (settled) {
                return;
            }
            settled = true;
            clearTimeout(hardDeadline);
            timings.totalMs = since();
            if (!result.ok) {
                ws.terminate();
            }
            resolve(result);
        };
        const hardDeadline = setTimeout(
            () => finish({ ok: false, timings, failure: failure("HANDSHAKE_TIMEOUT", `no 101 within ${options.handshakeTimeoutMs} ms`, { elapsedSec: since() / 1000 }) }),
            options.handshakeTimeoutMs + 1000,
        );

        const request = (ws as unknown as { _req?: import("http").ClientRequest })._req;
        request?.once("finish", () => (requestSentAt = since()));

        ws.once("upgrade", (res) => {
            upgradeHeaders = res.headers;
            timings.upgradeMs = requestSentAt === undefined ? undefined : since() - requestSentAt;
        });
        ws.once("open", () =>
            finish({ ok: true, ws, timings: { ...timings, totalMs: since() }, status: 101, protocol: ws.protocol, extensions: ws.extensions, openedAt: performance.now(), headers: upgradeHeaders }),
        );
        ws.once("unexpected-response", (req, res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            const refuse = () => {
                req.destroy();
                res.destroy();
                const body = Buffer.concat(chunks).toString("utf8").slice(0, BODY_EXCERPT_BYTES).trim();
                const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
                finish({
                    ok: false,
                    timings,
                    failure: failure("HANDSHAKE_REFUSED", `upgrade refused with HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ""}`, {
                        status: res.statusCode,
                        bodyExcerpt: body || undefined,
                        headers,
                        elapsedSec: since() / 1000,
                    }),
                });
            };
            // Read a little of the body for evidence, but never wait on it for long.
            const bodyDeadline = setTimeout(refuse, 500);
            res.on("data", (chunk: Buffer) => {
                chunks.push(chunk);
                size += chunk.length;
                if (size >= BODY_EXCERPT_BYTES) {
                    clearTimeout(bodyDeadline);
                    refuse();
                }
            });
            res.on("end", () => {
                clearTimeout(bodyDeadline);
                refuse();
            });
            res.on("error", () => {
                clearTimeout(bodyDeadline);
                refuse();
            });
        });
        ws.once("error", (err: NodeJS.ErrnoException) => finish({ ok: false, timings, failure: classify(err, phase, since() / 1000) }));
    });
}

/** Closes a socket politely, then for sure. */
export function closeSocket(ws: WebSocket, graceMs = 1000): Promise<void> {
    return new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
        }
        const timer = setTimeout(() => {
            ws.terminate();
            resolve();
        }, graceMs);
        ws.once("close", () => {
            clearTimeout(timer);
            resolve();
        });
        try {
            ws.close(1000, "validation done");
        } catch {
            ws.terminate();
        }
    });
}
