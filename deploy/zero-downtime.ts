import WebSocket from "ws";

/** How a held connection ended, as its client saw it. */
type HeldEnding = "drained" | "cut" | "other";

export interface PhaseCounts {
    attempted: number;
    succeeded: number;
}

export interface ZeroDowntimeReport {
    readonly url: string;
    /** Connections kept open (each reopened, as a client with backoff would, after it ends). */
    readonly keep: number;
    /** New connections probed, per pipeline phase. */
    readonly newConnections: Record<string, PhaseCounts & { successRate?: number }>;
    /** Success rate of new connections from the start of `up` to the end of the watch: the goal is 1. */
    readonly deploySuccessRate?: number;
    readonly held: { opened: number; drained: number; cut: number; other: number; stillOpen: number };
    /** Each held connection that ended while kept: when, in which phase, with what close code. */
    readonly endings: Array<{ at: string; phase: string; code: number; reason: string; ending: HeldEnding }>;
    readonly verdict: "zero downtime" | "downtime";
    readonly summary: string;
}

/** Close codes the client sees: 1001 is a server going away after draining; 1006 is a cut (no close frame). */
function endingOf(code: number): HeldEnding {
    return code === 1001 ? "drained" : code === 1006 ? "cut" : "other";
}

/**
 * Keeps `keep` WebSockets open and probes new connections continuously while a deploy runs, so
 * zero downtime is measured rather than promised. The pipeline names the phase it is in; every
 * probe and every ending is counted against it.
 */
export class ConnectionKeeper {
    private phase = "before up";
    private stopped = false;
    /** Set when stop() ends what is still held, so those endings are not counted as the server's. */
    private terminating = false;
    private readonly counts: Record<string, PhaseCounts> = {};
    private readonly endings: ZeroDowntimeReport["endings"] = [];
    private readonly held = new Set<WebSocket>();
    private opened = 0;
    private probeTimer?: NodeJS.Timeout;
    private readonly pending = new Set<Promise<void>>();
    private readonly deployPhases = new Set<string>();

    private constructor(
        private readonly url: string,
        private readonly options: { keep: number; probeIntervalMs: number; handshakeTimeoutMs: number },
    ) {}

    /** Opens the held connections (waiting for them), then starts probing. */
    static async start(
        url: string,
        options: { keep: number; probeIntervalMs: number; handshakeTimeoutMs: number },
    ): Promise<ConnectionKeeper> {
        const keeper = new ConnectionKeeper(url, options);
        await Promise.all(Array.from({ length: options.keep }, () => keeper.hold(0)));
        keeper.scheduleProbe();
        return keeper;
    }

    /** The phase the pipeline is in now; `deploy` marks it as part of the deploy's success rate. */
    setPhase(name: string, deploy: boolean): void {
        this.phase = name;
        if (deploy) {
            this.deployPhases.add(name);
        }
    }

    private track(work: Promise<void>): void {
        this.pending.add(work);
        void work.finally(() => this.pending.delete(work));
    }

    private connect(): Promise<WebSocket | undefined> {
        return new Promise((resolve) => {
            const ws = new WebSocket(this.url, { handshakeTimeout: this.options.handshakeTimeoutMs });
            let settled = false;
            const done = (result: WebSocket | undefined) => {
                if (!settled) {
                    settled = true;
                    if (!result) {
                        ws.terminate();
                    }
                    resolve(result);
                }
            };
            ws.once("open", () => done(ws));
            ws.once("error", () => done(undefined));
            ws.once("unexpected-response", (req) => {
                req.destroy();
                done(undefined);
            });
            ws.once("close", () => done(undefined));
        });
    }

    /** One held connection; when the server ends it, it is counted and reopened after a backoff. */
    private async hold(attempt: number): Promise<void> {
        if (this.stopped) {
            return;
        }
        const ws = await this.connect();
        if (this.stopped) {
            ws?.terminate();
            return;
        }
        if (!ws) {
            // A client with backoff: 100 ms, 200 ms, ... up to 2 s.
            setTimeout(() => this.track(this.hold(attempt + 1)), Math.min(2000, 100 * 2 ** attempt));
            return;
        }
        this.opened += 1;
        this.held.add(ws);
        ws.on("error", () => undefined);
        ws.once("close", (code: number, reason: Buffer) => {
            this.held.delete(ws);
            if (this.terminating) {
                // Ours, at the end: counted as open at the end.
                return;
            }
            this.endings.push({
                at: new Date().toISOString(),
                phase: this.phase,
                code,
                reason: reason.toString(),
                ending: endingOf(code),
            });
            if (!this.stopped) {
                this.track(this.hold(0));
            }
        });
    }

    private scheduleProbe(): void {
        this.probeTimer = setTimeout(() => {
            if (this.stopped) {
                return;
            }
            this.track(this.probe());
            this.scheduleProbe();
        }, this.options.probeIntervalMs);
    }

    private async probe(): Promise<void> {
        const phase = this.phase;
        const ws = await this.connect();
        const counts = (this.counts[phase] ??= { attempted: 0, succeeded: 0 });
        counts.attempted += 1;
        if (ws) {
            counts.succeeded += 1;
            ws.close(1000, "probe done");
            setTimeout(() => ws.terminate(), 1000).unref();
        }
    }

    /** Stops probing, closes what it holds (not counted) and reports. */
    async stop(): Promise<ZeroDowntimeReport> {
        this.stopped = true;
        clearTimeout(this.probeTimer);
        await Promise.all([...this.pending]);
        const stillOpen = this.held.size;
        this.terminating = true;
        for (const ws of this.held) {
            ws.terminate();
        }
        this.held.clear();
        const newConnections = Object.fromEntries(
            Object.entries(this.counts).map(([phase, c]) => [
                phase,
                { ...c, successRate: c.attempted ? c.succeeded / c.attempted : undefined },
            ]),
        );
        const during = Object.entries(this.counts)
            .filter(([phase]) => this.deployPhases.has(phase))
            .map(([, c]) => c);
        const attempted = during.reduce((s, c) => s + c.attempted, 0);
        const deploySuccessRate = attempted ? during.reduce((s, c) => s + c.succeeded, 0) / attempted : undefined;
        const held = {
            opened: this.opened,
            drained: this.endings.filter((e) => e.ending === "drained").length,
            cut: this.endings.filter((e) => e.ending === "cut").length,
            other: this.endings.filter((e) => e.ending === "other").length,
            stillOpen,
        };
        const zero = (deploySuccessRate === undefined || deploySuccessRate === 1) && held.cut === 0;
        const pct = deploySuccessRate === undefined ? "no probes" : `${(deploySuccessRate * 100).toFixed(1)} %`;
        return {
            url: this.url,
            keep: this.options.keep,
            newConnections,
            deploySuccessRate,
            held,
            endings: this.endings,
            verdict: zero ? "zero downtime" : "downtime",
            summary:
                `${zero ? "ZERO DOWNTIME" : "DOWNTIME"}: new connections during the deploy ${pct} ` +
                // Each held connection that ends is reopened, so the endings are counted against
                // every connection opened, and they add up to it.
                `(${attempted} probes); of ${held.opened} held connections (${this.options.keep} at a time, each reopened when it ended): ` +
                `${held.drained} closed cleanly by the server (1001 after draining), ` +
                `${held.cut} cut (1006), ${held.other} other, ${held.stillOpen} open at the end`,
        };
    }
}
