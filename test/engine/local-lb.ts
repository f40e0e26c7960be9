import * as fs from "fs";
import * as https from "https";
import { WebSocketServer } from "ws";

// The load balancer the engine tier's deploy tests validate through, in front of the gcp
// stand-in's pretend cloud.

export const HOST = "staging.chat.example.com";
export const API_IMAGE = "us-docker.pkg.dev/example-chat-staging/chat/api";

interface CloudRecord {
    readonly type: string;
    readonly props: Record<string, unknown>;
}

/** The image the api backend's instances run, as the pretend cloud's instance template says. */
export function servedApiImage(cloudFile: string): string | undefined {
    const records = Object.values(JSON.parse(fs.readFileSync(cloudFile, "utf8")) as Record<string, CloudRecord>);
    const template = records.find(
        (r) =>
            r.type === "gcp:compute/instanceTemplate:InstanceTemplate" &&
            String((r.props.metadata as Record<string, unknown>)?.["user-data"]).includes(`${API_IMAGE}:`),
    );
    const userData = String(
        ((template?.props.metadata as Record<string, unknown> | undefined)?.["user-data"] as string | undefined) ?? "",
    );
    return new RegExp(`${API_IMAGE.replace(/[.]/g, "\\.")}:[\\w.-]+`).exec(userData)?.[0];
}

/**
 * The load balancer in front of the stand-in's pretend cloud, on 127.0.0.1:443 with a certificate
 * for the stack's domain: it serves WebSockets (echo) while the api backend runs a good image and
 * answers 502 (failed_to_pick_backend) when its instance template runs an image tagged "broken",
 * as instances whose container never starts would.
 */
export async function startLoadBalancer(cloudFile: string, cert: Buffer, key: Buffer): Promise<https.Server> {
    const server = https.createServer({ cert, key });
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
        if ((servedApiImage(cloudFile) ?? "").endsWith(":broken")) {
            socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 22\r\n\r\nfailed_to_pick_backend");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (data, binary) => ws.send(data, { binary })));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", (e: NodeJS.ErrnoException) =>
            reject(
                new Error(
                    `the local load balancer needs 127.0.0.1:443 (the stack's wss:// URLs have no port): ${e.code}; run as root with the port free`,
                ),
            ),
        );
        server.listen(443, "127.0.0.1", resolve);
    });
    return server;
}
