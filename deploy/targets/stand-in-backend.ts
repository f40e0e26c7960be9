import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { WebSocket, WebSocketServer } from "ws";

/**
 * The stand-in's "program": how its backend behaves, read from `stand-in.json` in a checkout, so
 * a program change is a commit and a rollback to a commit changes behaviour for real.
 */
export interface StandInProgram {
    /** Percent (integer) of the users' plain HTTP requests answered 500. */
    readonly http5xxPercent: number;
    /** Percent (integer) of WebSocket upgrades refused with 403: handshake failures that are not 5xx. */
    readonly refuseUpgradePercent: number;
    /** Echo messages back; false is a broken program that the validator catches. */
    readonly echo: boolean;
    /**
     * What the application does when it is replaced (SIGTERM on a MIG): close each WebSocket with
     * 1001 going away so clients reconnect at once, or die with them open (clients see 1006).
     */
    readonly drainOnShutdown: boolean;
    /** The images the stand-in's "registry" holds: deploying any other fails, as a pull would. */
    readonly images: readonly string[];
}

export const PROGRAM_FILE = "stand-in.json";

export const DEFAULT_PROGRAM: StandInProgram = {
    http5xxPercent: 0,
    refuseUpgradePercent: 0,
    echo: true,
    drainOnShutdown: true,
    images: ["chat:1"],
};

/** Reads and checks a checkout's stand-in program; every problem in one message. */
export function readProgram(dir: string): StandInProgram {
    const file = path.join(dir, PROGRAM_FILE);
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new Error(`${file}: expected a JSON object`);
    }
    const program = { ...DEFAULT_PROGRAM, ...raw } as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of ["http5xxPercent", "refuseUpgradePercent"] as const) {
        const v = program[key];
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 100) {
            problems.push(`${key} is ${JSON.stringify(v)}; allowed: an integer from 0 to 100`);
        }
    }
    for (const key of ["echo", "drainOnShutdown"] as const) {
        if (typeof program[key] !== "boolean") {
            problems.push(`${key} is ${JSON.stringify(program[key])}; allowed: true or false`);
        }
    }
    if (!Array.isArray(program.images) || !program.images.every((i) => typeof i === "string")) {
        problems.push(`images is ${JSON.stringify(program.images)}; allowed: a list of image references`);
    }
    const unknown = Object.keys(raw).filter((k) => !(k in DEFAULT_PROGRAM));
    if (unknown.length) {
        problems.push(
            `unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; allowed: ${Object.keys(DEFAULT_PROGRAM).join(", ")}`,
        );
    }
    if (problems.length) {
        throw new Error(`${file}: ${problems.join("; ")}`);
    }
    return program as unknown as StandInProgram;
}

/**
 * What the stand-in served, by time: its users' plain requests with their 5xx, and WebSocket
 * upgrades. The 5xx rate is taken over the users' requests only: the pipeline's own probes are
 * upgrades, and on this small stand-in they would dilute the rate, where on a real load balancer
 * they are a negligible share of request_count.
 */
export class TrafficLog {
    private readonly events: Array<{ at: number; requests: number; errors5xx: number; upgrades: number }> = [];

    record(counts: { requests?: number; errors5xx?: number; upgrades?: number }, at = Date.now()): void {
        this.events.push({
            at,
            requests: counts.requests ?? 0,
            errors5xx: counts.errors5xx ?? 0,
            upgrades: counts.upgrades ?? 0,
        });
    }

    count(start: number, end: number): { requests: number; errors5xx: number; upgrades: number } {
        const inWindow = this.events.filter((e) => e.at >= start && e.at < end);
        const sum = (k: "requests" | "errors5xx" | "upgrades") => inWindow.reduce((s, e) => s + e[k], 0);
        return { requests: sum("requests"), errors5xx: sum("errors5xx"), upgrades: sum("upgrades") };
    }
}

/** Index header the stand-in's users put on each request of a batch: the backend picks its 500s by it. */
export const BATCH_INDEX_HEADER = "x-batch-index";
export const BATCH_SIZE = 100;

/**
 * One backend instance (a VM of the MIG, a Cloud Run instance): an HTTP server that echoes
 * WebSockets and answers the users' plain requests, behaving as its program says.
 */
export class BackendInstance {
    private readonly sockets = new Set<net.Socket>();
    private readonly wss = new WebSocketServer({ noServer: true });
    private upgrades = 0;
    /** The rates it serves with: the program's, until a test injects a fault at run time. */
    private readonly faults: { http5xxPercent: number; refuseUpgradePercent: number };

    private constructor(
        private readonly server: http.Server,
        readonly program: StandInProgram,
        readonly image: string,
        private readonly traffic: TrafficLog,
    ) {
        this.faults = { http5xxPercent: program.http5xxPercent, refuseUpgradePercent: program.refuseUpgradePercent };
        server.on("connection", (s: net.Socket) => {
            this.sockets.add(s);
            s.on("close", () => this.sockets.delete(s));
        });
        server.on("request", (req, res) => {
            const index = Number(req.headers[BATCH_INDEX_HEADER] ?? "-1");
            // The first http5xxPercent of each batch of 100 fail: an exact rate per batch.
            const fail = index >= 0 && index < this.faults.http5xxPercent;
            res.writeHead(fail ? 500 : 200, { "content-type": "text/plain" }).end(fail ? "internal error\n" : "ok\n");
        });
        server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
            this.upgrade(req, socket, head),
        );
        this.wss.on("connection", (ws: WebSocket) => {
            ws.on("message", (data, isBinary) => {
                if (program.echo) {
                    ws.send(data, { binary: isBinary });
                }
            });
        });
    }

    static async start(program: StandInProgram, image: string, traffic: TrafficLog): Promise<BackendInstance> {
        const server = http.createServer();
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => resolve());
        });
        return new BackendInstance(server, program, image, traffic);
    }

    /**
     * A fault that shows only after validation, as a leak or real traffic would: from now on this
     * instance serves with these rates. The watch window exists to catch exactly this.
     */
    degrade(faults: Partial<{ http5xxPercent: number; refuseUpgradePercent: number }>): void {
        Object.assign(this.faults, faults);
    }

    get port(): number {
        return (this.server.address() as net.AddressInfo).port;
    }

    private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
        this.upgrades += 1;
        const p = this.faults.refuseUpgradePercent;
        // Refuses exactly p of every 100 upgrades, spread evenly.
        const refuse = Math.floor((this.upgrades * p) / 100) > Math.floor(((this.upgrades - 1) * p) / 100);
        this.traffic.record({ upgrades: 1 });
        if (refuse) {
            socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\nConnection: close\r\n\r\nforbidden\n");
            return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
    }

    /**
     * Replaced: with `drainOnShutdown`, every WebSocket gets a 1001 close frame (the client
     * reconnects at once) before the server exits; without, the process dies with them open.
     */
    async shutdown(): Promise<"drained" | "killed"> {
        this.server.close();
        if (this.program.drainOnShutdown) {
            await Promise.all(
                [...this.wss.clients].map(
                    (ws) =>
                        new Promise<void>((resolve) => {
                            const timer = setTimeout(() => {
                                ws.terminate();
                                resolve();
                            }, 2000);
                            ws.once("close", () => {
                                clearTimeout(timer);
                                resolve();
                            });
                            ws.close(1001, "going away");
                        }),
                ),
            );
        }
        this.sockets.forEach((s) => s.destroy());
        this.wss.close();
        return this.program.drainOnShutdown ? "drained" : "killed";
    }
}
