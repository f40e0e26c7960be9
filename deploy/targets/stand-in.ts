import { DeployTarget, Snapshot } from "../pipeline";
import { CapProxy, startCapProxy } from "./cap-proxy";
import { EchoServer, startEchoServer } from "../../validator";

/** The stand-in's whole "stack config". */
export interface StandInConfig {
    /** Seconds after which the load balancer cuts every connection (its backend timeout); null for none. */
    readonly cutAfterSec: number | null;
}

/**
 * A local stand-in for a deployed stack: a lifetime-cap proxy in front of a local echo server,
 * on 127.0.0.1. Its "stack config" sets the cut, as timeoutSec does on the load balancer: 30 s
 * before the fix, none after. `up` applies the desired config; `failUps` makes chosen up
 * attempts (1-based) fail, as a provider error would.
 */
export class LocalStandIn implements DeployTarget {
    readonly description = "local stand-in (lifetime-cap proxy in front of an echo server on 127.0.0.1)";
    private applied: StandInConfig;
    private version = 1;
    private upAttempts = 0;
    private proxy?: CapProxy;
    private proxyPort?: number;

    private constructor(
        private readonly echo: EchoServer,
        initial: StandInConfig,
        /** What `pulumi config set` would have set before the deploy. */
        public desired: StandInConfig,
        private readonly failUps: ReadonlySet<number>,
    ) {
        this.applied = initial;
    }

    static async start(options: { applied: StandInConfig; desired: StandInConfig; failUps?: number[] }): Promise<LocalStandIn> {
        const standIn = new LocalStandIn(await startEchoServer(), options.applied, options.desired, new Set(options.failUps ?? []));
        await standIn.listen();
        return standIn;
    }

    /** (Re)starts the proxy with the applied config, on the same port, closing open connections as a reconfiguration would. */
    private async listen(): Promise<void> {
        await this.closeProxy();
        this.proxy = await startCapProxy({ targetPort: this.echo.port, cutAfterSec: this.applied.cutAfterSec, port: this.proxyPort });
        this.proxyPort = this.proxy.port;
    }

    private closeProxy(): Promise<void> {
        const proxy = this.proxy;
        this.proxy = undefined;
        return proxy ? proxy.close() : Promise.resolve();
    }

    private encode(config: StandInConfig): Snapshot["config"] {
        return { "standin:cutAfterSec": { value: JSON.stringify(config.cutAfterSec), secret: false } };
    }

    get appliedConfig(): StandInConfig {
        return this.applied;
    }

    async preview(): Promise<string> {
        const cut = this.desired.cutAfterSec;
        if (cut !== null && !(cut > 0)) {
            throw new Error(`standin:cutAfterSec is ${cut}; allowed: a positive number of seconds or null`);
        }
        return `1 change: ${describeCut(this.applied)} → ${describeCut(this.desired)}`;
    }

    async snapshot(): Promise<Snapshot> {
        return { config: this.encode(this.applied), version: this.version, cloudRunRevisions: {} };
    }

    async up(): Promise<string> {
        this.upAttempts += 1;
        if (this.failUps.has(this.upAttempts)) {
            // A failed update can leave the stack partly changed: here the proxy is down.
            await this.closeProxy();
            throw new Error(`up attempt ${this.upAttempts} failed: the provider returned an error`);
        }
        this.applied = this.desired;
        this.version += 1;
        await this.listen();
        return `version ${this.version}: ${describeCut(this.applied)}`;
    }

    async rollback(snapshot: Snapshot): Promise<string> {
        const saved = snapshot.config["standin:cutAfterSec"];
        this.desired = { cutAfterSec: JSON.parse(saved.value) as number | null };
        return `restored version ${snapshot.version}: ${await this.up()}`;
    }

    async endpoint(): Promise<{ url: string; source: string } | undefined> {
        return { url: `ws://127.0.0.1:${this.proxyPort}`, source: this.proxy ? "local stand-in" : "local stand-in (down after a failed up)" };
    }

    async stop(): Promise<void> {
        await this.closeProxy();
        await this.echo.close();
    }
}

function describeCut(config: StandInConfig): string {
    return config.cutAfterSec === null ? "no cut" : `cut after ${config.cutAfterSec} s`;
}
