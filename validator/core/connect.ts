import { ClientRequest, IncomingMessage } from "http";
import * as net from "net";
import { performance } from "perf_hooks";
import * as tls from "tls";
import WebSocket, { ClientOptions } from "ws";
import { Failure, failure } from "./codes";
import { DeadlineSweep, Watched } from "./deadlines";

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
    /** The source address to connect from (a load spreads --local-address over its connections). */
    readonly localAddress?: string;
    /** false: offer no permessage-deflate (ws offers it by default, and a socket that takes it keeps zlib state). */
    readonly perMessageDeflate?: false;
}

export interface ResolveEntry {
    readonly host: string;
    readonly port: number;
    readonly address: string;
}

/** The address --resolve gives for a host and port, if any. */
function resolvedAddress(
    entries: readonly ResolveEntry[] | undefined,
    host: string | undefined,
    port: number | string | undefined,
): string | undefined {
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
/** The upgrade headers of a handshake that kept none (a load run's): one object for all of them. */
const NO_HEADERS: Opened["headers"] = Object.freeze({});
/** What ws hands a createConnection. */
type ConnectionOptions = net.NetConnectOpts & tls.ConnectionOptions & { socketPath?: string; host?: string };

const TLS_CODES =
    /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_|ERR_CERT)/;

/**
 * The sockets one validation run opened and has not closed yet. Each run owns one and ends it
 * when the run ends, however it ends, so no caller has to remember to clean up after it.
 */
export class SocketPool {
    private readonly open = new Set<WebSocket>();
    // One listener for every socket of the pool (ws calls it with the socket as `this`): a closure
    // per socket would be kept as long as the socket is.
    private readonly forget: (this: WebSocket) => void;

    constructor() {
        const open = this.open;
        this.forget = function (this: WebSocket) {
            open.delete(this);
            notClosed -= 1;
        };
    }

    add(ws: WebSocket): void {
        notClosed += 1;
        this.open.add(ws);
        ws.on("close", this.forget);
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
    /**
     * Time only the whole handshake (`timings.totalMs`) and keep no upgrade headers: a load run's
     * thousands need nothing else, and the phases' listeners are work on every one of them.
     * Default: every phase timed. A wss:// handshake still watches when its TCP and TLS phases
     * end, untimed, as a failure's code depends on which one it died in.
     */
    readonly totalTimeOnly?: boolean;
}

let notClosed = 0;

/** WebSockets this process created that have not emitted close yet, whatever their pool: for tests. */
export function liveCount(): number {
    return notClosed;
}

export function classify(
    err: NodeJS.ErrnoException,
    phase: { secure: boolean; tcpDone: boolean; tlsDone: boolean },
    elapsedSec: number,
): Failure {
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
 * ws's options for one run's connections of one scheme, made once (ws copies what it is given),
 * holding only what differs from ws's and Node's defaults, or nothing at all. ws spreads them
 * over its own defaults for every connection (initAsClient in ws/lib/websocket.js), and each key
 * it did not already have costs every connection of a load run: 540 bytes more allocated per
 * handshake for six keys set to their defaults or undefined, measured. Left to their defaults:
 * ws's followRedirects (false: a redirect is a refused upgrade, reported, never followed; a test
 * holds it) and Node's rejectUnauthorized (true).
 */
const clientOptionsMade = new WeakMap<ConnectOptions, { ws?: ClientOptions | null; wss?: ClientOptions | null }>();

function clientOptionsOf(options: OpenOptions, secure: boolean): ClientOptions | undefined {
    const scheme = secure ? "wss" : "ws";
    let made = clientOptionsMade.get(options);
    if (made === undefined) {
        made = {};
        clientOptionsMade.set(options, made);
    }
    let chosen = made[scheme];
    if (chosen === undefined) {
        chosen = made[scheme] = clientOptionsFor(options, secure);
    }
    return chosen ?? undefined;
}

function clientOptionsFor(options: OpenOptions, secure: boolean): ClientOptions | null {
    const chosen: ClientOptions = {};
    // The request is watched for a probe's phases, and for a wss:// handshake's TCP and TLS ends;
    // a ws:// load times the whole only and leaves ws to end the request itself.
    if (!options.totalTimeOnly || secure) {
        chosen.finishRequest = finishRequest;
    }
    // No handshakeTimeout for ws: its timer is an idle timer on the socket, re-armed on every read
    // and write and kept by the socket after the open; the Handshake's deadline is the one limit,
    // and an idle one would let a server that trickles bytes run past it.
    // The command passes an empty object when no --header was given; ws then gets no options at
    // all, as a plain client gives it.
    if (options.headers !== undefined && Object.keys(options.headers).length > 0) {
        chosen.headers = options.headers;
    }
    if (options.origin !== undefined) {
        chosen.origin = options.origin;
    }
    if (options.ca !== undefined) {
        chosen.ca = options.ca;
    }
    if (options.insecure) {
        chosen.rejectUnauthorized = false;
    }
    if (options.perMessageDeflate === false) {
        chosen.perMessageDeflate = false;
    }
    if (options.localAddress !== undefined) {
        chosen.localAddress = options.localAddress;
    }
    // ws's own connect unless --resolve redirects the dial.
    if (options.resolve?.length) {
        chosen.createConnection = dialer(options.resolve, secure) as unknown as ClientOptions["createConnection"];
    }
    return Object.keys(chosen).length > 0 ? chosen : null;
}

/** A createConnection for ws that dials the --resolve address for a host and port, if any. */
function dialer(resolve: readonly ResolveEntry[], secure: boolean): (connectOptions: ConnectionOptions) => net.Socket {
    return (connectOptions) => {
        // The URL's host keeps naming the server (Host, SNI, certificate); only the dial changes.
        const dial = resolvedAddress(resolve, connectOptions.host, connectOptions.port);
        if (secure) {
            // As ws's own tlsConnect: SNI by host name, none for an IP address.
            const servername =
                connectOptions.servername ?? (net.isIP(connectOptions.host ?? "") ? "" : connectOptions.host);
            return tls.connect({
                ...connectOptions,
                ...(dial ? { host: dial } : {}),
                path: undefined,
                servername,
            } as tls.ConnectionOptions);
        }
        return net.connect({
            ...connectOptions,
            ...(dial ? { host: dial } : {}),
            path: connectOptions.socketPath,
        } as net.NetConnectOpts);
    };
}

// ws hands each request to `finishRequest`, a documented option of its client (doc/ws.md: it gets
// the request and the WebSocket when the request is ready to be sent, and must end it). ws
// 8.23.0 calls it inside the WebSocket constructor, before the handshake can mark the WebSocket
// as its own, so the request waits here until the constructor returns; were a later ws to call it
// afterwards, the handshake is found through the WebSocket instead.
let handedRequest: ClientRequest | undefined;
let handedBy: WebSocket | undefined;

function finishRequest(request: ClientRequest, websocket: WebSocket): void {
    const handshake = handshakeOf(websocket);
    if (handshake !== undefined) {
        handshake.watchRequest(request);
    } else {
        handedRequest = request;
        handedBy = websocket;
    }
    request.end();
}

/** Every handshake in flight in this process, under one timer. */
const handshakeDeadlines = new DeadlineSweep();

/** Whether an emitter (a WebSocket, its request or its socket) still refers to a handshake: for tests. */
export function refersToHandshake(emitter: object): boolean {
    return handshakeOf(emitter) !== undefined;
}

/** Handshakes whose hard deadline is still watched: for tests. */
export function handshakesInFlight(): number {
    return handshakeDeadlines.pending;
}

// Where an emitter (the WebSocket, its request, its socket) finds the handshake it belongs to,
// until that settles: the listeners below are one function each for every handshake of the
// process, called with the emitter as `this`, rather than closures made per connection. Once
// the handshake settles they find none and do nothing; the error one then stands in for the
// handler a settled socket still needs (ws emits 'error' before it closes a broken connection,
// and an 'error' with no listener would be thrown).
const HANDSHAKE = Symbol("handshake");
type Carrier = { [HANDSHAKE]?: Handshake };

function handshakeOf(emitter: object): Handshake | undefined {
    return (emitter as Carrier)[HANDSHAKE];
}

function onOpen(this: WebSocket): void {
    handshakeOf(this)?.opened();
}

function onError(this: WebSocket, err: NodeJS.ErrnoException): void {
    handshakeOf(this)?.failed(err);
}

function onUpgrade(this: WebSocket, res: IncomingMessage): void {
    handshakeOf(this)?.upgraded(res);
}

function onUnexpectedResponse(this: WebSocket, req: ClientRequest, res: IncomingMessage): void {
    handshakeOf(this)?.readRefusal(req, res);
}

function onRequestSent(this: ClientRequest): void {
    handshakeOf(this)?.requestSent();
}

function onRequestSocket(this: ClientRequest, socket: net.Socket): void {
    handshakeOf(this)?.watchSocket(socket);
}

function onLookup(this: net.Socket): void {
    handshakeOf(this)?.lookedUp();
}

function onConnect(this: net.Socket): void {
    handshakeOf(this)?.connected();
}

function onSecureConnect(this: net.Socket): void {
    handshakeOf(this)?.secured();
}

/**
 * One handshake's state. What it attaches to the WebSocket, its request and its socket are the
 * shared listeners above and a reference that goes when it settles, so an open connection keeps
 * nothing of its handshake but the result.
 */
class Handshake implements Watched {
    settled = false;
    readonly ws: WebSocket;
    private readonly start = performance.now();
    private readonly timings: HandshakeTimings = { totalMs: 0 };
    // Which phase it reached, for classify(): fields of its own rather than an object per handshake.
    readonly secure: boolean;
    tcpDone = false;
    tlsDone = false;
    /** Every phase timed (not `totalTimeOnly`). */
    private readonly timed: boolean;
    private requestSentAt: number | undefined;
    private upgradeHeaders: Opened["headers"] = NO_HEADERS;
    private request: (ClientRequest & Carrier) | undefined;
    private socket: (net.Socket & Carrier) | undefined;

    constructor(
        url: string,
        private readonly options: OpenOptions,
        private readonly done: (result: Opened | Refused) => void,
    ) {
        const secure = url.startsWith("wss:");
        this.secure = secure;
        const ws = new WebSocket(url, options.subprotocols, clientOptionsOf(options, secure)) as WebSocket & Carrier;
        this.ws = ws;
        ws[HANDSHAKE] = this;
        options.sockets.add(ws);
        options.onSocket?.(ws);
        handshakeDeadlines.add(this, options.handshakeTimeoutMs);
        this.timed = !options.totalTimeOnly;
        if (handedBy === ws && handedRequest !== undefined) {
            this.watchRequest(handedRequest);
        }
        handedRequest = handedBy = undefined;
        if (this.timed) {
            ws.on("upgrade", onUpgrade);
        }
        ws.on("open", onOpen);
        ws.on("unexpected-response", onUnexpectedResponse);
        ws.on("error", onError);
    }

    /** Computed when the sweep asks rather than kept: a number field is one more heap object per handshake. */
    get dueAt(): number {
        return this.start + this.options.handshakeTimeoutMs;
    }

    /** Listeners only for what is measured ('on', not 'once': each event comes at most once). */
    watchRequest(request: ClientRequest & Carrier): void {
        this.request = request;
        request[HANDSHAKE] = this;
        if (this.timed) {
            request.on("finish", onRequestSent);
        }
        // The socket's first events come from the event loop, after this tick's 'socket'.
        request.on("socket", onRequestSocket);
    }

    requestSent(): void {
        this.requestSentAt = this.since();
    }

    watchSocket(socket: net.Socket & Carrier): void {
        this.socket = socket;
        socket[HANDSHAKE] = this;
        if (this.secure) {
            socket.on("secureConnect", onSecureConnect);
        }
        if (this.timed) {
            socket.on("lookup", onLookup);
        }
        socket.on("connect", onConnect);
    }

    lookedUp(): void {
        this.timings.dnsMs = this.since();
    }

    connected(): void {
        this.tcpDone = true;
        if (this.timed) {
            this.timings.tcpMs = this.since() - (this.timings.dnsMs ?? 0);
        }
    }

    secured(): void {
        this.tlsDone = true;
        if (this.timed) {
            this.timings.tlsMs = this.since() - (this.timings.dnsMs ?? 0) - (this.timings.tcpMs ?? 0);
        }
    }

    upgraded(res: IncomingMessage): void {
        this.upgradeHeaders = res.headers;
        this.timings.upgradeMs = this.requestSentAt === undefined ? undefined : this.since() - this.requestSentAt;
    }

    opened(): void {
        const now = performance.now();
        this.timings.totalMs = now - this.start;
        const ws = this.ws;
        this.finish({
            ok: true,
            ws,
            timings: this.timings,
            status: 101,
            protocol: ws.protocol,
            extensions: ws.extensions,
            openedAt: now,
            headers: this.upgradeHeaders,
        });
    }

    failed(err: NodeJS.ErrnoException): void {
        this.finish({ ok: false, timings: this.timings, failure: classify(err, this, this.since() / 1000) });
    }

    expire(): void {
        this.finish({
            ok: false,
            timings: this.timings,
            failure: failure("HANDSHAKE_TIMEOUT", `no 101 within ${this.options.handshakeTimeoutMs} ms`, {
                elapsedSec: this.since() / 1000,
            }),
        });
    }

    private since(): number {
        return performance.now() - this.start;
    }

    private finish(result: Opened | Refused): void {
        if (this.settled) {
            return;
        }
        this.settled = true;
        handshakeDeadlines.release();
        if (!result.ok) {
            this.timings.totalMs = this.since();
        }
        // The WebSocket and its socket live as long as the connection: they must not keep this.
        const ws = this.ws as WebSocket & Carrier;
        ws[HANDSHAKE] = undefined;
        if (this.request !== undefined) {
            this.request[HANDSHAKE] = undefined;
        }
        if (this.socket !== undefined) {
            this.socket[HANDSHAKE] = undefined;
            this.socket = undefined;
        }
        if (!result.ok) {
            ws.terminate();
        }
        this.done(result);
    }

    /** A refused upgrade: a little of the body for evidence, never waiting on it for long. */
    readRefusal(req: ClientRequest, res: IncomingMessage): void {
        const chunks: Buffer[] = [];
        let size = 0;
        const refuse = () => {
            req.destroy();
            res.destroy();
            const body = Buffer.concat(chunks).toString("utf8").slice(0, BODY_EXCERPT_BYTES).trim();
            const headers = Object.fromEntries(
                Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]),
            );
            this.finish({
                ok: false,
                timings: this.timings,
                failure: failure(
                    "HANDSHAKE_REFUSED",
                    `upgrade refused with HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ""}`,
                    {
                        status: res.statusCode,
                        bodyExcerpt: body || undefined,
                        headers,
                        elapsedSec: this.since() / 1000,
                    },
                ),
            });
        };
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
    }
}

/**
 * Opens one WebSocket and times each phase of its handshake, calling `done` once with the
 * outcome: the promise-free form, for a load run's thousands. Never hangs: a hard deadline of
 * handshakeTimeoutMs from the start, and a refused upgrade is read for evidence and then
 * destroyed (ws keeps that socket open once an 'unexpected-response' listener exists).
 */
export function startSocket(url: string, options: OpenOptions, done: (result: Opened | Refused) => void): void {
    new Handshake(url, options, done);
}

/** `startSocket` as a promise. */
export function openSocket(url: string, options: OpenOptions): Promise<Opened | Refused> {
    return new Promise((resolve) => startSocket(url, options, resolve));
}

/**
 * Closes sockets politely, then for sure: one grace period for all of them, begun together, after
 * which those still open are ended (a timer and a promise per socket would cost a load run's close).
 */
export function closeSockets(sockets: readonly WebSocket[], graceMs = 1000): Promise<void> {
    return new Promise((resolve) => {
        const live = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED);
        if (live.length === 0) {
            resolve();
            return;
        }
        let open = live.length;
        // Armed before the first close, so a close event always finds the timer to clear.
        const timer = setTimeout(() => {
            for (const ws of sockets) {
                ws.terminate();
            }
            resolve();
        }, graceMs);
        const closed = () => {
            open -= 1;
            if (open === 0) {
                clearTimeout(timer);
                resolve();
            }
        };
        for (const ws of live) {
            ws.once("close", closed);
            try {
                ws.close(1000, "validation done");
            } catch {
                ws.terminate();
            }
        }
    });
}

/** Closes a socket politely, then for sure. */
export function closeSocket(ws: WebSocket, graceMs = 1000): Promise<void> {
    return closeSockets([ws], graceMs);
}
