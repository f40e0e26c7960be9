import { execFileSync, spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { WebSocketServer } from "ws";
import { startCapProxy } from "../../deploy/targets/cap-proxy";

// Real servers on 127.0.0.1 only, each the thing a WebSocket client meets in the wild.

export interface Closable {
    readonly port: number;
    readonly url: string;
    close(): Promise<void>;
}

function listen(server: net.Server, scheme = "ws"): Promise<Closable> {
    const sockets = new Set<net.Socket>();
    server.on("connection", (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    server.on("secureConnection", (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                port,
                url: `${scheme}://127.0.0.1:${port}`,
                close: () =>
                    new Promise((done) => {
                        sockets.forEach((s) => s.destroy());
                        server.close(() => done());
                    }),
            });
        });
    });
}

/** The lifetime-cap proxy the deploy stand-in uses: cuts each connection `capSec` after it opened. */
export async function lifetimeCapProxy(targetPort: number, capSec: number): Promise<Closable> {
    const proxy = await startCapProxy({ targetPort, cutAfterSec: capSec });
    return { port: proxy.port, url: `ws://127.0.0.1:${proxy.port}`, close: () => proxy.close() };
}

/** Answers every upgrade with an HTTP status and a short body. */
export function refusingServer(status: number, body: string): Promise<Closable> {
    const server = http.createServer((_req, res) => res.writeHead(status).end(body));
    server.on("upgrade", (_req, socket: net.Socket) => {
        socket.end(
            `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
    });
    return listen(server);
}

/** Answers every upgrade with a redirect (301, 302, 307 or 308) to `location`. */
export function redirectingServer(status: number, location: string): Promise<Closable> {
    const server = http.createServer((_req, res) => res.writeHead(status, { Location: location }).end());
    server.on("upgrade", (_req, socket: net.Socket) => {
        socket.end(
            `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
    });
    return listen(server);
}

/** Accepts TCP and counts the connections it was offered, answering none: did anyone come here? */
export async function countingServer(): Promise<Closable & { connections(): number }> {
    let connections = 0;
    const server = net.createServer((socket) => {
        connections += 1;
        socket.destroy();
    });
    return { ...(await listen(server)), connections: () => connections };
}

/** Accepts TCP, reads the client's first bytes (a TLS ClientHello) and resets the connection: dies inside the TLS handshake. */
export function resetDuringTlsServer(): Promise<Closable> {
    return listen(
        net.createServer((socket) => socket.once("data", () => socket.resetAndDestroy())),
        "wss",
    );
}

/** Accepts TCP and never says a word. */
export function silentServer(): Promise<Closable> {
    return listen(net.createServer(() => undefined));
}

/** An echo server that only upgrades requests carrying the given header value. */
export function authServer(header: string, value: string): Promise<Closable> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket: net.Socket, head) => {
        if (req.headers[header.toLowerCase()] !== value) {
            socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 13\r\nConnection: close\r\n\r\nmissing token");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (d, binary) => ws.send(d, { binary })));
    });
    return listen(server);
}

export function hasBinary(name: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

/**
 * A self-signed certificate made with openssl in a fresh folder (`dir`, the caller's to remove):
 * for 127.0.0.1 and localhost, or for `host` alone, so that a check against any other name fails.
 */
export function selfSignedCertificate(host?: string): { dir: string; cert: Buffer; key: Buffer; certFile: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-tls-"));
    const certFile = path.join(dir, "cert.pem");
    const keyFile = path.join(dir, "key.pem");
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            keyFile,
            "-out",
            certFile,
            "-days",
            "1",
            "-subj",
            `/CN=${host ?? "localhost"}`,
            "-addext",
            host ? `subjectAltName=DNS:${host}` : "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        { stdio: "ignore" },
    );
    return { dir, cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), certFile };
}

export function tlsEchoServer(cert: Buffer, key: Buffer): Promise<Closable> {
    const server = https.createServer({ cert, key });
    const wss = new WebSocketServer({ server });
    wss.on("connection", (ws) => ws.on("message", (d, binary) => ws.send(d, { binary })));
    return listen(server, "wss");
}

/** A loopback port free a moment ago, for a server started as another process. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new Error(`nginx exited with ${child.exitCode}: ${log()}`);
        }
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1", () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) {
            return;
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nginx did not listen on ${port}: ${log()}`);
}

/**
 * nginx from Debian proxying WebSockets with a short proxy_read_timeout: an idle timeout. Traffic
 * in either direction (pings and their pongs) resets it.
 */
export async function nginxIdleProxy(targetPort: number, readTimeoutSec: number): Promise<Closable> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-nginx-"));
    const port = await freePort();
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(
        conf,
        `${nginxConfHead(dir)}    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://127.0.0.1:${targetPort};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout ${readTimeoutSec}s;
            proxy_send_timeout ${readTimeoutSec}s;
        }
    }
}
`,
    );
    return startNginx(dir, port, conf);
}

/**
 * The start of an nginx.conf for a private run in `dir`: one worker in the foreground, and its pid,
 * error log and temporary files in `dir`, never in the system's paths. The `http {` block is left
 * open for the caller's servers.
 */
export function nginxConfHead(dir: string): string {
    return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
`;
}

/** Runs nginx on a config written for `port` (paths under `dir`), until close. */
export async function startNginx(dir: string, port: number, conf: string): Promise<Closable> {
    const child = spawn("nginx", ["-c", conf, "-p", dir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const log = () =>
        `${stderr}${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, "utf8") : ""}`;
    await waitForPort(port, child, log);
    return {
        port,
        url: `ws://127.0.0.1:${port}`,
        close: () =>
            new Promise((done) => {
                if (child.exitCode !== null) {
                    done();
                    return;
                }
                child.once("exit", () => done());
                child.kill("SIGQUIT");
                setTimeout(() => child.kill("SIGKILL"), 2000).unref();
            }),
    };
}

/** An echo server that speaks only the given subprotocol and admits only the given Origin (403 otherwise). */
export function protocolServer(subprotocol: string, origin: string): Promise<Closable> {
    const server = http.createServer();
    const wss = new WebSocketServer({
        noServer: true,
        handleProtocols: (offered) => (offered.has(subprotocol) ? subprotocol : false),
    });
    server.on("upgrade", (req, socket: net.Socket, head) => {
        if (req.headers.origin !== origin) {
            socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 18\r\nConnection: close\r\n\r\norigin not allowed");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (d, binary) => ws.send(d, { binary })));
    });
    return listen(server);
}

/**
 * An echo server whose connections misbehave `afterMs` after they open: "no-pong" never answers a
 * ping (a peer that is gone while its TCP connection is not), "invalid-frame" sends a frame with a
 * reserved opcode, "oversize-frame" announces a frame larger than the client's limit, "1011"
 * closes with 1011 (an internal error on the server's side).
 */
export function faultyServer(
    fault: "no-pong" | "invalid-frame" | "oversize-frame" | "1011",
    afterMs = 0,
): Promise<Closable> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true, autoPong: fault !== "no-pong" });
    server.on("upgrade", (req, socket: net.Socket, head) => {
        wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on("message", (d, binary) => ws.send(d, { binary }));
            ws.on("error", () => undefined);
            const misbehave = () => {
                if (fault === "1011") {
                    ws.close(1011, "internal error");
                } else if (fault === "invalid-frame") {
                    // FIN and opcode 3, reserved for further non-control frames (RFC 6455 5.2).
                    socket.write(Buffer.from([0x83, 0x00]));
                } else if (fault === "oversize-frame") {
                    // A binary frame announcing 2^31 bytes: over ws's 100 MiB default limit.
                    socket.write(Buffer.from([0x82, 127, 0, 0, 0, 0, 0x80, 0, 0, 0]));
                }
            };
            if (fault !== "no-pong") {
                const timer = setTimeout(misbehave, afterMs);
                ws.on("close", () => clearTimeout(timer));
            }
        });
    });
    return listen(server);
}

/**
 * An echo server that cuts each connection (no close frame: the client sees 1006) at an age set by
 * its path and by whether the client pinged it: `cuts["/path"] = [idleSec, pingedSec]`, the first
 * for a connection never pinged, the second for one that was. Holds
 * the probe's idle and pinging connections to chosen, different ages, as no single proxy does.
 */
export function ageCutServer(cuts: Readonly<Record<string, readonly [number, number]>>): Promise<Closable> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket: net.Socket, head) => {
        const [idleSec, pingedSec] = cuts[req.url ?? ""] ?? [3600, 3600];
        wss.handleUpgrade(req, socket, head, (ws) => {
            let pinged = false;
            ws.on("message", (d, binary) => ws.send(d, { binary }));
            ws.on("ping", () => (pinged = true));
            const idleCut = setTimeout(() => pinged || ws.terminate(), idleSec * 1000);
            const pingedCut = setTimeout(() => pinged && ws.terminate(), pingedSec * 1000);
            ws.on("close", () => (clearTimeout(idleCut), clearTimeout(pingedCut)));
        });
    });
    return listen(server);
}
