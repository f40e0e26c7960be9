import * as assert from "assert";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { WebSocketServer } from "ws";
import { hasBinary, selfSignedCertificate } from "../validator/servers";
import { requireTools, ROOT, show, Workspace } from "./harness";

// The load balancer the engine tier's deploy tests validate through, in front of the gcp
// stand-in's pretend cloud, and the set-up those tests share.

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
async function startLoadBalancer(cloudFile: string, cert: Buffer, key: Buffer): Promise<https.Server> {
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

/** What a deploy test starts from: the staging stack up on a local backend, behind the local load balancer. */
export interface DeployedStaging {
    readonly ws: Workspace;
    /** The load balancer's certificate (PEM), for the validator's `ca`. */
    readonly cert: Buffer;
}

/**
 * Registers the calling describe's `before` and `after`: a workspace named `name` whose staging
 * stack the CLI brings up with the pack, this process's environment pointed at it (the Automation
 * API runs the CLI with it), and the load balancer in front; after, the environment as it was and
 * nothing left behind. `prepare` runs on the workspace before the first up. The returned function
 * gives the tests what `before` made.
 */
export function stagingBehindLoadBalancer(name: string, prepare?: (ws: Workspace) => void): () => DeployedStaging {
    let deployed: DeployedStaging | undefined;
    let ws: Workspace | undefined;
    let lb: https.Server | undefined;
    let certDir: string | undefined;
    const savedEnv = { ...process.env };

    before(async function () {
        requireTools(this);
        if (!hasBinary("openssl")) {
            console.warn("      SKIPPED: openssl is not installed (apt-get install -y openssl); CI installs it");
            this.skip();
        }
        ws = Workspace.create(name, { staging: path.join(ROOT, "Pulumi.staging.yaml") });
        await ws.initStacks(["staging"]);
        prepare?.(ws);
        Object.assign(process.env, ws.env());
        const first = await ws.pulumi([
            "up",
            "--yes",
            "--stack",
            "staging",
            "--policy-pack",
            path.join(ws.dir, "policies"),
        ]);
        assert.equal(first.code, 0, show(first));
        const cert = selfSignedCertificate(HOST);
        certDir = cert.dir;
        lb = await startLoadBalancer(ws.cloudFile, cert.cert, cert.key);
        deployed = { ws, cert: cert.cert };
    });

    after(async () => {
        for (const key of Object.keys(process.env)) {
            if (!(key in savedEnv)) {
                delete process.env[key];
            }
        }
        Object.assign(process.env, savedEnv);
        if (lb) {
            lb.closeAllConnections();
            await new Promise((resolve) => lb!.close(resolve));
        }
        ws?.remove();
        if (certDir) {
            fs.rmSync(certDir, { recursive: true, force: true });
        }
    });

    return () => {
        assert.ok(deployed, "the deployed staging stack was read before its before hook made it");
        return deployed;
    };
}
