import { randomUUID } from "crypto";
import * as http from "http";
import * as net from "net";
import { WebSocket, WebSocketServer } from "ws";

// A little chat backend on 127.0.0.1 speaking the protocol validator/scenarios/chat.yaml checks:
//   on connect   -> {"type":"connected","server":ID,"session":UUID} (and header x-backend-id: ID)
//   {"type":"echo",...}                 -> the same object back, with "server": ID
//   {"type":"user_message","id":X,...}  -> agent_started, agent_thinking, tool_executing,
//                                          tool_completed, agent_completed, each with run_id X and seq
//   {"type":"bye","code":N}             -> the server closes with code N
//   any other text                      -> echoed as is
// Its options break it in the ways the tests need a server to be broken.

const AGENT_EVENTS = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
] as const;

export interface ChatServerOptions {
    /** Names this backend in x-backend-id and in the connected message. */
    readonly backendId?: string;
    /** When set, an upgrade without `Authorization: Bearer TOKEN` is refused with 403. */
    readonly token?: string;
    /** Broken auth: upgrades without the token are accepted anyway. */
    readonly acceptWithoutToken?: boolean;
    /**
     * Origins whose upgrades pass, as the edge's Origin rule lets them (infra/security.ts): one
     * with another Origin is refused with 403, one without Origin passes. Default: none.
     */
    readonly allowedOrigins?: readonly string[];
    /** A broken edge: upgrades from any Origin are accepted. */
    readonly acceptForeignOrigin?: boolean;
    /** Milliseconds between agent events (default 2). */
    readonly eventDelayMs?: number;
    /** Sends the agent events in this order instead (names from AGENT_EVENTS). */
    readonly eventOrder?: readonly string[];
    /** Echo replies carry this text instead of what was sent. */
    readonly garbleEcho?: boolean;
    /** Never answers a ping (a stalled server or proxy). */
    readonly noPong?: boolean;
    /** Cuts every connection (no close frame) this long after it opened. */
    readonly cutAfterMs?: number;
}

export interface ChatServer {
    readonly url: string;
    readonly port: number;
    readonly backendId: string;
    /** Upgrades accepted so far. */
    connections(): number;
    close(): Promise<void>;
}

const PATHS = ["/ws", "/ws/test", "/websocket"];

export function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
    const backendId = options.backendId ?? "chat-1";
    const server = http.createServer((_req, res) => res.writeHead(426).end("WebSocket only\n"));
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: !options.noPong });
    const sockets = new Set<net.Socket>();
    const timers = new Set<NodeJS.Timeout>();
    let accepted = 0;
    server.on("connection", (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    wss.on("headers", (headers) => headers.push(`x-backend-id: ${backendId}`));
    const later = (ms: number, fn: () => void) => {
        const t = setTimeout(() => {
            timers.delete(t);
            fn();
        }, ms);
        timers.add(t);
    };

    server.on("upgrade", (req, socket: net.Socket, head) => {
        const path = (req.url ?? "/").split("?")[0];
        if (!PATHS.includes(path)) {
            socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 8\r\nConnection: close\r\n\r\nno route");
            return;
        }
        const origin = req.headers.origin;
        if (origin !== undefined && !options.acceptForeignOrigin && !(options.allowedOrigins ?? []).includes(origin)) {
            socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\nConnection: close\r\n\r\nforeign origin");
            return;
        }
        if (options.token && req.headers.authorization !== `Bearer ${options.token}` && !options.acceptWithoutToken) {
            socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\nConnection: close\r\n\r\ntoken missing");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
            accepted += 1;
            ws.on("error", () => ws.terminate());
            ws.send(JSON.stringify({ type: "connected", server: backendId, session: randomUUID() }));
            if (options.cutAfterMs !== undefined) {
                later(options.cutAfterMs, () => ws.terminate());
            }
            // binaryType stays "nodebuffer", so ws delivers each message as one Buffer.
            ws.on("message", (data, isBinary) => handle(ws, (data as Buffer).toString(), isBinary));
        });
    });

    function handle(ws: WebSocket, text: string, isBinary: boolean): void {
        let message: Record<string, unknown> | undefined;
        try {
            const parsed: unknown = JSON.parse(text);
            message =
                typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
                    ? (parsed as Record<string, unknown>)
                    : undefined;
        } catch {
            message = undefined;
        }
        if (message?.type === "echo") {
            ws.send(
                JSON.stringify(
                    options.garbleEcho
                        ? { ...message, text: "garbled", server: backendId }
                        : { ...message, server: backendId },
                ),
            );
        } else if (message?.type === "user_message") {
            const order = options.eventOrder ?? AGENT_EVENTS;
            const delay = options.eventDelayMs ?? 2;
            order.forEach((type, i) =>
                later(delay * (i + 1), () => {
                    if (ws.readyState === WebSocket.OPEN) {
                        ws.send(
                            JSON.stringify({
                                type,
                                run_id: message.id,
                                seq: i + 1,
                                ...(type === "agent_completed" ? { text: `reply to: ${String(message.text)}` } : {}),
                            }),
                        );
                    }
                }),
            );
        } else if (message?.type === "bye" && typeof message.code === "number") {
            ws.close(message.code, "bye");
        } else {
            ws.send(text, { binary: isBinary });
        }
    }

    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                url: `ws://127.0.0.1:${port}`,
                port,
                backendId,
                connections: () => accepted,
                close: () =>
                    new Promise((done) => {
                        timers.forEach((t) => clearTimeout(t));
                        wss.clients.forEach((c) => c.terminate());
                        sockets.forEach((s) => s.destroy());
                        wss.close();
                        server.close(() => done());
                    }),
            });
        });
    });
}
