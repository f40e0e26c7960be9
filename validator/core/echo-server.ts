import * as http from "http";
import { AddressInfo } from "net";
import { WebSocketServer } from "ws";
import { DEFAULT_ENDPOINTS } from "./defaults";

export interface EchoServer {
    readonly url: string;
    readonly port: number;
    close(): Promise<void>;
}

/** A WebSocket echo server on 127.0.0.1 that serves the given paths and refuses others with 404. */
export function startEchoServer(
    options: {
        port?: number;
        paths?: readonly string[];
        host?: string;
        /**
         * SO_REUSEPORT: several processes listen on one port and the kernel spreads connections
         * over them (bench/echo-cluster.ts: more sockets than one process may hold).
         */
        reusePort?: boolean;
    } = {},
): Promise<EchoServer> {
    const paths = options.paths ?? DEFAULT_ENDPOINTS;
    const server = http.createServer((_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" });
        res.end("WebSocket only\n");
    });
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server.on("upgrade", (req, socket, head) => {
        const path = (req.url ?? "/").split("?")[0];
        if (!paths.some((p) => p === path || (p.endsWith("/*") && path.startsWith(p.slice(0, -1))))) {
            socket.end("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nno route\r\n");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
            ws.on("error", () => ws.terminate());
        });
    });
    server.maxConnections = Infinity;
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        const listen = { port: options.port ?? 0, host: options.host ?? "127.0.0.1", backlog: 16_384 };
        server.listen(options.reusePort ? { ...listen, reusePort: true } : listen, () => {
            const { port } = server.address() as AddressInfo;
            resolve({
                url: `ws://127.0.0.1:${port}`,
                port,
                close: () =>
                    new Promise((done) => {
                        for (const client of wss.clients) {
                            client.terminate();
                        }
                        wss.close();
                        server.closeAllConnections();
                        server.close(() => done());
                    }),
            });
        });
    });
}
