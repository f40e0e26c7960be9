import * as http from "http";
import { DeployChange, DeployTarget, ImageOverride, Snapshot } from "../pipeline";
import { MetricsSource } from "../metrics";
import { sourceRevision, withWorktree } from "../revisions";
import {
    BackendInstance,
    BATCH_INDEX_HEADER,
    BATCH_SIZE,
    DEFAULT_PROGRAM,
    readProgram,
    StandInProgram,
    TrafficLog,
} from "./stand-in-backend";
import { CapProxy, startCapProxy } from "./cap-proxy";

/** The stand-in's whole "stack config". */
export interface StandInConfig {
    /** Seconds after which the load balancer cuts every connection (its backend timeout); null for none. */
    readonly cutAfterSec: number | null;
    /** The image its one backend, `api`, runs; unset: the first image the program lists. */
    readonly image?: string;
}

/** The stand-in's single backend, as `--image api=REF` names it. */
const STAND_IN_BACKEND = "api";

export interface StandInOptions {
    readonly applied: StandInConfig;
    readonly desired: StandInConfig;
    /** Up attempts (1-based) that fail as a provider error would, leaving the proxy down. */
    readonly failUps?: number[];
    /**
     * A checkout whose `stand-in.json` is the program: `up` reads it there, as `pulumi up` runs the
     * program in the checkout. Unset: the default program, fixed.
     */
    readonly programDir?: string;
    /** The commit a previous good deploy recorded (the stack tag, for a real stack). */
    readonly lastGoodCommit?: string;
    /** Users sending plain HTTP requests all along, in batches of 100, so there is a 5xx rate to read. */
    readonly users?: boolean;
}

/**
 * A local stand-in for a deployed stack: a lifetime-cap proxy (the load balancer) in front of a
 * backend instance, on 127.0.0.1. Its "stack config" sets the cut, as timeoutSec does on the load
 * balancer, and the backend's image; its "program" (stand-in.json in a git checkout) sets how the
 * backend behaves. `up` is a rolling replacement: a new instance starts, new connections go to
 * it, and the old one shuts down, draining its WebSockets (1001) or not (1006) as its program says.
 */
export class LocalStandIn implements DeployTarget {
    readonly description = "local stand-in (lifetime-cap proxy in front of a backend instance on 127.0.0.1)";
    private applied: StandInConfig;
    private version = 1;
    private upAttempts = 0;
    private proxy?: CapProxy;
    private proxyPort?: number;
    private lastGoodCommit?: string;
    /** The image the last good deploy ran over its "stack file" (`--image`), as the real target's stack tag. */
    private lastGoodOverride?: ImageOverride;
    private deployedOverride?: ImageOverride;
    private usersRunning = false;
    private usersDone?: Promise<void>;
    /** How each replaced instance went: for tests and the up's detail. */
    readonly replacements: Array<"drained" | "killed"> = [];

    private constructor(
        private instance: BackendInstance,
        initial: StandInConfig,
        /** What `pulumi config set` would have set before the deploy. */
        public desired: StandInConfig,
        private readonly options: StandInOptions,
        /** What the stand-in served: its 5xx source. */
        readonly traffic: TrafficLog,
    ) {
        this.applied = { ...initial, image: instance.image };
        this.lastGoodCommit = options.lastGoodCommit;
    }

    static async start(options: StandInOptions): Promise<LocalStandIn> {
        const program = options.programDir ? readProgram(options.programDir) : DEFAULT_PROGRAM;
        const traffic = new TrafficLog();
        const image = options.applied.image ?? program.images[0];
        const standIn = new LocalStandIn(
            await BackendInstance.start(program, image, traffic),
            options.applied,
            options.desired,
            options,
            traffic,
        );
        await standIn.listen();
        if (options.users) {
            standIn.startUsers();
        }
        return standIn;
    }

    /** Starts the proxy if it is down, on the same port; it reads the cut and the backend per connection. */
    private async listen(): Promise<void> {
        if (this.proxy) {
            return;
        }
        this.proxy = await startCapProxy({
            targetPort: () => this.instance.port,
            cutAfterSec: () => this.applied.cutAfterSec,
            port: this.proxyPort,
        });
        this.proxyPort = this.proxy.port;
    }

    private closeProxy(): Promise<void> {
        const proxy = this.proxy;
        this.proxy = undefined;
        return proxy ? proxy.close() : Promise.resolve();
    }

    private encode(config: StandInConfig): Snapshot["config"] {
        return {
            "standin:cutAfterSec": { value: JSON.stringify(config.cutAfterSec), secret: false },
            "standin:image": { value: config.image ?? "", secret: false },
        };
    }

    get appliedConfig(): StandInConfig {
        return { cutAfterSec: this.applied.cutAfterSec };
    }

    get appliedImage(): string | undefined {
        return this.applied.image;
    }

    /** The program the serving instance runs. */
    get appliedProgram(): StandInProgram {
        return this.instance.program;
    }

    /** Injects a fault into the serving instance (see BackendInstance.degrade); a rollback replaces it. */
    degrade(faults: Parameters<BackendInstance["degrade"]>[0]): void {
        this.instance.degrade(faults);
    }

    get recordedGoodCommit(): string | undefined {
        return this.lastGoodCommit;
    }

    preview(change: DeployChange = { images: {} }): Promise<string> {
        const cut = this.desired.cutAfterSec;
        if (cut !== null && !(cut > 0)) {
            return Promise.reject(
                new Error(`standin:cutAfterSec is ${cut}; allowed: a positive number of seconds or null`),
            );
        }
        const unknown = Object.keys(change.images).filter((name) => name !== STAND_IN_BACKEND);
        if (unknown.length) {
            return Promise.reject(
                new Error(`--image ${unknown[0]}=...: no such backend; allowed: ${STAND_IN_BACKEND}`),
            );
        }
        return Promise.resolve(
            `1 change: ${describeCut(this.applied)} → ${describeCut(this.desired)}${change.images[STAND_IN_BACKEND] ? `, image ${change.images[STAND_IN_BACKEND]}` : ""}`,
        );
    }

    snapshot(): Promise<Snapshot> {
        return Promise.resolve({
            config: this.encode(this.applied),
            version: this.version,
            cloudRunRevisions: {},
            lastGoodCommit: this.lastGoodCommit,
        });
    }

    async up(change: DeployChange = { images: {} }): Promise<string> {
        return this.deploy(this.options.programDir, change.images[STAND_IN_BACKEND]);
    }

    /** A rolling replacement with the program found in `programDir` (the checkout, or a worktree). */
    private async deploy(programDir: string | undefined, image: string | undefined): Promise<string> {
        this.upAttempts += 1;
        if (this.options.failUps?.includes(this.upAttempts)) {
            // A failed update can leave the stack partly changed: here the proxy is down.
            await this.closeProxy();
            throw new Error(`up attempt ${this.upAttempts} failed: the provider returned an error`);
        }
        const program = programDir ? readProgram(programDir) : DEFAULT_PROGRAM;
        // What the "stack file" names; an image the last good deploy ran over it stays while it does.
        const fileImage = (this.desired.image || undefined) ?? program.images[0];
        const carried = this.lastGoodOverride?.over === fileImage ? this.lastGoodOverride.image : undefined;
        const wanted = image ?? carried ?? fileImage;
        this.deployedOverride = wanted === fileImage ? undefined : { image: wanted, over: fileImage };
        if (!program.images.includes(wanted)) {
            // As a MIG whose new template cannot pull its image: the old instance keeps serving.
            throw new Error(
                `service ${STAND_IN_BACKEND}: image ${wanted} not found in the registry (pull failed); allowed: ${program.images.join(", ")}`,
            );
        }
        const next = await BackendInstance.start(program, wanted, this.traffic);
        const old = this.instance;
        this.instance = next;
        this.applied = { cutAfterSec: this.desired.cutAfterSec, image: wanted };
        this.version += 1;
        await this.listen();
        const how = await old.shutdown();
        this.replacements.push(how);
        return `version ${this.version}: ${describeCut(this.applied)}, image ${wanted}; old instance ${how === "drained" ? "drained (1001 to its WebSockets)" : "killed with its WebSockets open"}`;
    }

    async rollback(snapshot: Snapshot): Promise<string> {
        this.desired = {
            cutAfterSec: JSON.parse(snapshot.config["standin:cutAfterSec"].value) as number | null,
            image: snapshot.config["standin:image"]?.value || undefined,
        };
        const revision = this.options.programDir ? sourceRevision(this.options.programDir) : undefined;
        if (snapshot.lastGoodCommit && revision) {
            const commit = snapshot.lastGoodCommit;
            const done = await withWorktree(revision, commit, (dir) => this.deploy(dir, this.desired.image));
            return `program and config of the last good deploy (commit ${commit.slice(0, 12)}, from a temporary worktree): ${done}`;
        }
        return `no recorded good commit: config restored only, the program is the checkout's: restored version ${snapshot.version}: ${await this.deploy(this.options.programDir, this.desired.image)}`;
    }

    recordGood(commit: string): Promise<string> {
        this.lastGoodCommit = commit;
        this.lastGoodOverride = this.deployedOverride;
        const image = this.deployedOverride ? `, with image ${this.deployedOverride.image}` : "";
        return Promise.resolve(`recorded ${commit.slice(0, 12)} as the last good commit${image}`);
    }

    metrics(): Promise<MetricsSource> {
        if (this.metricsOverride) {
            return Promise.resolve(this.metricsOverride);
        }
        return Promise.resolve({
            description: "the local stand-in's own counts of its users' HTTP requests",
            requestCounts: (window) => {
                const { requests, errors5xx } = this.traffic.count(window.start.getTime(), window.end.getTime());
                return Promise.resolve({ requests, errors5xx });
            },
        });
    }

    /** Tests swap in a source of their own (one that cannot be read, say). */
    metricsOverride?: MetricsSource;

    signalSource(): Promise<MetricsSource | undefined> {
        return this.metrics();
    }

    endpoint(): Promise<{ url: string; source: string } | undefined> {
        return Promise.resolve({
            url: `ws://127.0.0.1:${this.proxyPort}`,
            source: this.proxy ? "local stand-in" : "local stand-in (down after a failed up)",
        });
    }

    /** Users: batches of 100 plain requests through the load balancer, counted when each batch completes. */
    private startUsers(): void {
        this.usersRunning = true;
        const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
        const request = (index: number) =>
            new Promise<number | undefined>((resolve) => {
                const req = http.get(
                    {
                        host: "127.0.0.1",
                        port: this.proxyPort,
                        path: "/api/ping",
                        agent,
                        headers: { [BATCH_INDEX_HEADER]: String(index) },
                    },
                    (res) => {
                        res.resume();
                        res.on("end", () => resolve(res.statusCode));
                        res.on("error", () => resolve(undefined));
                    },
                );
                req.on("error", () => resolve(undefined));
                req.setTimeout(5000, () => req.destroy());
            });
        this.usersDone = (async () => {
            while (this.usersRunning) {
                const statuses = await Promise.all(Array.from({ length: BATCH_SIZE }, (_, i) => request(i)));
                // Only whole batches count, so each window sees the program's exact 5xx rate.
                if (statuses.every((s) => s !== undefined)) {
                    this.traffic.record({
                        requests: statuses.length,
                        errors5xx: statuses.filter((s) => s >= 500).length,
                    });
                }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            agent.destroy();
        })();
    }

    async stop(): Promise<void> {
        this.usersRunning = false;
        await this.usersDone;
        await this.closeProxy();
        await this.instance.shutdown();
    }
}

function describeCut(config: StandInConfig): string {
    return config.cutAfterSec === null ? "no cut" : `cut after ${config.cutAfterSec} s`;
}
