import * as fs from "fs";
import * as path from "path";
import { errorText, EXIT, sleep } from "../cli/kit";
import { plural } from "../cli/suggest";
import { Report, validate, ValidateOptions } from "../validator";
import { MetricsSource } from "./metrics";
import { SourceRevision, worktreeRollbackCommands } from "./revisions";
import {
    describeTrigger,
    handshakeTrigger,
    http5xxTrigger,
    TriggerName,
    TriggerResult,
    TRIGGERS,
    WatchSettings,
} from "./watch";
import { ConnectionKeeper, ZeroDowntimeReport } from "./zero-downtime";

/** What this deploy changes besides the checkout: new images for named backends (`--image api=REF`). */
export interface DeployChange {
    readonly images: Readonly<Record<string, string>>;
}

/**
 * What the pipeline needs from a stack. The real one drives Pulumi's Automation API
 * (targets/automation.ts); the local stand-in (targets/stand-in.ts) lets the same pipeline run
 * here against real sockets.
 */
export interface DeployTarget {
    readonly description: string;
    /**
     * Throws a UsageError when the stack cannot be updated now (locked, or pending operations
     * left by an update that was killed): checked before any work.
     */
    checkReady?(): Promise<void>;
    /** Preview with the policy pack enforced, on the config `up` will apply; throws with the engine's message on failure. */
    preview(change: DeployChange): Promise<string>;
    /** Everything a rollback needs: the config now, the deployment it can return to, the last good commit. */
    snapshot(): Promise<Snapshot>;
    /** Applies the checkout's program and config with the change; throws on failure (the stack may be partly updated). */
    up(change: DeployChange): Promise<string>;
    /**
     * Returns to the snapshot: the program and config of its last good commit (from a temporary
     * worktree) when it has one, else its config; pins Cloud Run traffic to its revisions; applies.
     */
    rollback(snapshot: Snapshot): Promise<string>;
    /** Records the commit of a deploy that passed everything, for the next rollback. */
    recordGood(commit: string): Promise<string>;
    /** Where this stack's HTTP 5xx rate is read; undefined when it has none. */
    metrics(): Promise<MetricsSource | undefined>;
    /**
     * The source the watch window will read, for a credentials check before `up`: what
     * `metrics()` gives once the stack exists (a new stack has no outputs yet to find it by).
     */
    signalSource(): Promise<MetricsSource | undefined>;
    /** The base URL to validate, once the stack exists. */
    endpoint(): Promise<{ url: string; source: string } | undefined>;
}

/** A backend's image deployed over what its stack file said (`--image`). */
export interface ImageOverride {
    readonly image: string;
    /** The stack file's image for that backend when it was deployed (undefined: none). */
    readonly over?: string;
}

export interface Snapshot {
    readonly config: Record<string, { value: string; secret: boolean }>;
    /** The stack's deployment version (or the stand-in's), for the report. */
    readonly version?: number;
    /** Cloud Run backend name to the revision serving before the deploy. */
    readonly cloudRunRevisions: Record<string, string>;
    /** The exported deployment, kept so an operator can `pulumi stack import` it by hand. */
    readonly deploymentFile?: string;
    /** The file is in a private temporary folder: removed at the end unless the manual steps name it. */
    readonly deploymentFileTemporary?: boolean;
    /** The images the last good deploy ran over its commit's stack file: a rollback runs them again. */
    readonly lastGoodImages?: Readonly<Record<string, ImageOverride>>;
    /** The commit the last good deploy recorded; a rollback runs that program. */
    readonly lastGoodCommit?: string;
    /** Pulumi.<stack>.yaml as it was: a rollback without a recorded commit writes it back. */
    readonly stackFileText?: string;
}

export interface GateResult {
    readonly ok: boolean;
    readonly summary: string;
}

export interface PipelineOptions {
    readonly stack: string;
    readonly dryRun: boolean;
    /** Seconds to wait for the new config to serve (re-validating with backoff). */
    readonly propagationTimeoutSec: number;
    /** Validation settings (endpoints, hold, thresholds...); the URL comes from the target. */
    readonly validation: Omit<ValidateOptions, "baseUrl" | "source" | "monitor" | "load">;
    /** The watch window after the post-deploy validation, and the rate triggers' thresholds. */
    readonly watch: WatchSettings;
    /** Connections held open and new ones probed from before `up` to the end (zero downtime); 0 for none. */
    readonly keep: { readonly connections: number; readonly probeIntervalMs: number };
    readonly change: DeployChange;
    /** The checkout being deployed: its commit is recorded when the deploy is good. */
    readonly revision?: SourceRevision;
    /** The JSON report's path, when one will be written: manual steps may point at it. */
    readonly reportFile?: string;
    /** Ctrl-C: stop at the next safe point (never during `up`). */
    readonly signal?: AbortSignal;
    /** A second Ctrl-C: validations end their sockets at once instead of waiting for them. */
    readonly force?: AbortSignal;
    readonly log: (line: string) => void;
}

type PhaseStatus = "ok" | "failed" | "skipped" | "recorded";

interface Phase {
    readonly name: string;
    readonly status: PhaseStatus;
    readonly startedAt: string;
    readonly seconds: number;
    readonly detail: string;
}

type Outcome = "deployed" | "dry-run" | "not-started" | "rolled-back" | "rollback-failed" | "interrupted";

export interface PipelineReport {
    readonly stack: string;
    readonly target: string;
    readonly outcome: Outcome;
    readonly exitCode: (typeof DEPLOY_EXIT)[keyof typeof DEPLOY_EXIT];
    readonly phases: Phase[];
    /** Every trigger evaluated, in the order they were. */
    readonly triggers: TriggerResult[];
    /** The trigger that caused the rollback, if one did. */
    readonly fired?: TriggerResult;
    readonly zeroDowntime?: ZeroDowntimeReport;
    readonly validations: Record<string, Report>;
    readonly snapshot?: Snapshot;
    /** The commit deployed (and recorded when good). */
    readonly commit?: string;
    readonly notes: string[];
    readonly manualSteps?: string[];
}

/** The deploy command's outcomes as the kit's exit codes (README.md, "Exit codes"). */
const DEPLOY_EXIT = {
    deployed: EXIT.ok,
    rolledBack: EXIT.failed,
    notStarted: EXIT.usage,
    rollbackFailed: EXIT.rollbackFailed,
    interrupted: EXIT.interrupted,
} as const;

type PhaseResult<T> = { status: PhaseStatus; detail: string; value?: T };

/** One pipeline run: its phases, each a method, and the record they leave for the report. */
class PipelineRun {
    readonly phases: Phase[] = [];
    readonly validations: Record<string, Report> = {};
    readonly triggers: TriggerResult[] = [];
    readonly notes: string[] = [];
    keeper?: ConnectionKeeper;
    zeroDowntime?: ZeroDowntimeReport;
    upStartedAt?: number;

    constructor(
        private readonly target: DeployTarget,
        private readonly options: PipelineOptions,
    ) {}

    get interrupted(): boolean {
        return this.options.signal?.aborted === true;
    }

    report(
        outcome: Outcome,
        exitCode: PipelineReport["exitCode"],
        extra: Partial<PipelineReport> = {},
    ): PipelineReport {
        const fired = this.triggers.find((t) => t.fired === true);
        return {
            stack: this.options.stack,
            target: this.target.description,
            outcome,
            exitCode,
            phases: this.phases,
            triggers: this.triggers,
            fired,
            zeroDowntime: this.zeroDowntime,
            validations: this.validations,
            commit: this.options.revision?.commit,
            notes: this.notes,
            ...extra,
        };
    }

    /** Runs one phase, timing and logging it; a throw is a failed phase. */
    private async phase<T>(
        name: string,
        run: () => Promise<PhaseResult<T>>,
    ): Promise<{ status: PhaseStatus; value?: T }> {
        const started = Date.now();
        this.options.log(`▶ ${name}`);
        let result: PhaseResult<T>;
        try {
            result = await run();
        } catch (e) {
            result = { status: "failed", detail: errorText(e) };
        }
        const seconds = (Date.now() - started) / 1000;
        this.phases.push({
            name,
            status: result.status,
            startedAt: new Date(started).toISOString(),
            seconds,
            detail: result.detail,
        });
        this.options.log(`  ${result.status.toUpperCase()} in ${seconds.toFixed(1)} s: ${result.detail}`);
        return result;
    }

    private trigger(t: TriggerResult): TriggerResult {
        this.triggers.push(t);
        return t;
    }

    /**
     * A validation that Ctrl-C stops (its hold included), except the one after a rollback: that
     * one proves the rollback, and the report must not claim a rollback it did not prove.
     */
    private async validateNow(key: string): Promise<Report | undefined> {
        const endpoint = await this.target.endpoint();
        if (!endpoint) {
            return undefined;
        }
        const interruptible = key !== "after-rollback";
        const result = await validate({
            ...this.options.validation,
            baseUrl: endpoint.url,
            source: endpoint.source,
            signal: interruptible ? this.options.signal : undefined,
            force: interruptible ? this.options.force : undefined,
        });
        this.validations[key] = result;
        return result;
    }

    /** A validation that passes or fails the phase. */
    private async validationPhase(name: string, key: string): Promise<boolean> {
        const done = await this.phase(name, async () => {
            const result = await this.validateNow(key);
            return {
                status: result?.verdict === "pass" ? "ok" : "failed",
                detail: result ? describe(result) : "no endpoint",
            };
        });
        return done.status === "ok";
    }

    /** 0. A stack a killed update left locked is found before anything runs. */
    async ready(): Promise<boolean> {
        const check = this.target.checkReady?.bind(this.target);
        if (!check) {
            return true;
        }
        const done = await this.phase("stack ready (no lock, no pending operations)", async () => {
            await check();
            return { status: "ok", detail: "not locked, no pending operations" };
        });
        return done.status === "ok";
    }

    /** 1. The offline preview with the policy pack. */
    async gate(gate: () => Promise<GateResult>): Promise<boolean> {
        const done = await this.phase("gate: offline preview with the policy pack", async () => {
            const result = await gate();
            return { status: result.ok ? "ok" : "failed", detail: result.summary };
        });
        return done.status === "ok";
    }

    /** 2. The target's own preview with the policy pack (the Automation API for a real stack). */
    async preview(): Promise<boolean> {
        return (
            (
                await this.phase("preview with the policy pack", async () => ({
                    status: "ok",
                    detail: await this.target.preview(this.options.change),
                }))
            ).status === "ok"
        );
    }

    /** 3. What clients see now, for comparison. Not a gate. */
    async baseline(): Promise<void> {
        await this.phase("baseline validation (recorded, not a gate)", async () => {
            const result = await this.validateNow("baseline");
            if (this.interrupted) {
                return { status: "skipped", detail: "interrupted: the hold was stopped, nothing recorded" };
            }
            return {
                status: result ? "recorded" : "skipped",
                detail: result ? describe(result) : "no endpoint yet (new stack)",
            };
        });
    }

    /** 4a. What a rollback needs. */
    async snapshot(): Promise<Snapshot | undefined> {
        const saved = await this.phase<Snapshot>("snapshot for rollback", async () => {
            const snapshot = await this.target.snapshot();
            const good = snapshot.lastGoodCommit
                ? `last good commit ${snapshot.lastGoodCommit.slice(0, 12)}`
                : "no recorded good commit (a rollback restores the config only)";
            return {
                status: "ok",
                detail: `config of ${plural(Object.keys(snapshot.config).length, "key")}, version ${snapshot.version ?? "-"}, ${good}`,
                value: snapshot,
            };
        });
        return saved.status === "ok" ? saved.value : undefined;
    }

    /**
     * 4b. Every signal a rollback trigger reads must be readable before `up`: a watch window
     * that cannot read the 5xx rate would only find out after the change.
     */
    async signals(): Promise<boolean> {
        if (this.options.watch.no5xxTrigger || this.options.watch.durationSec <= 0) {
            return true;
        }
        // A source that cannot fail to read (the stand-in's own counts) needs no phase.
        const source = await this.target.signalSource().catch(() => undefined);
        const check = source?.checkCredentials?.bind(source);
        if (!source || !check) {
            return true;
        }
        const done = await this.phase("signal sources readable", async () => {
            try {
                await check();
            } catch (e) {
                throw new Error(`${errorText(e)}; or deploy knowingly without the 5xx trigger: --no-5xx-trigger`, {
                    cause: e,
                });
            }
            return { status: "ok", detail: `${source.description}: credentials found` };
        }).finally(() => source.close?.());
        return done.status !== "failed";
    }

    /** 4c. Zero downtime is measured from before `up`: connections held, new ones probed. */
    async startKeeper(): Promise<void> {
        const { connections, probeIntervalMs } = this.options.keep;
        const endpoint = await this.target.endpoint();
        if (connections <= 0 || !endpoint) {
            return;
        }
        const url = new URL(
            this.options.validation.endpoints[0] ?? "/",
            endpoint.url.endsWith("/") ? endpoint.url : `${endpoint.url}/`,
        ).toString();
        this.keeper = await ConnectionKeeper.start(url, {
            keep: connections,
            probeIntervalMs,
            handshakeTimeoutMs: this.options.validation.handshakeTimeoutMs,
        });
    }

    /** Names the phase for the keeper; `deploy` phases count toward the zero-downtime rate. */
    markPhase(name: string, deploy = true): void {
        this.keeper?.setPhase(name, deploy);
    }

    async stopKeeper(): Promise<void> {
        if (this.keeper) {
            this.zeroDowntime = await this.keeper.stop();
            this.keeper = undefined;
            this.phases.push({
                name: "zero downtime (measured)",
                status: "recorded",
                startedAt: new Date().toISOString(),
                seconds: 0,
                detail: this.zeroDowntime.summary,
            });
            this.options.log(`  ${this.zeroDowntime.summary}`);
        }
    }

    /** 4d. Apply the change. A failure is the staging incident report's "service deploy failure". */
    async up(): Promise<boolean> {
        this.upStartedAt = Date.now();
        this.markPhase("up");
        const done = await this.phase("up", async () => ({
            status: "ok",
            detail: await this.target.up(this.options.change),
        }));
        const images = Object.entries(this.options.change.images)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ");
        this.trigger({
            trigger: "service-deploy",
            fired: done.status !== "ok",
            detail:
                done.status === "ok"
                    ? `up succeeded${images ? ` (images ${images})` : ""}`
                    : `up failed${images ? ` deploying ${images}` : ""}: ${this.phases[this.phases.length - 1].detail}`,
        });
        return done.status === "ok";
    }

    /**
     * 5. The load balancer takes a while to serve a new config: re-validate with backoff until it
     * passes or the timeout is reached; no blind sleep.
     */
    async propagation(): Promise<boolean> {
        this.markPhase("propagation");
        const timeoutSec = this.options.propagationTimeoutSec;
        const done = await this.phase("propagation", async () => {
            const deadline = Date.now() + timeoutSec * 1000;
            let wait = 1000;
            for (let attempt = 1; ; attempt++) {
                const result = await this.validateNow(`propagation-${attempt}`);
                if (result?.verdict === "pass") {
                    return { status: "ok", detail: `thresholds held on attempt ${attempt}` };
                }
                if (Date.now() + wait > deadline || this.interrupted) {
                    return {
                        status: "failed",
                        detail: `still failing after ${attempt} attempts and ${timeoutSec} s: ${result ? describe(result) : "no endpoint"}`,
                    };
                }
                await sleep(wait, this.options.signal);
                wait = Math.min(wait * 2, 30_000);
            }
        });
        if (done.status !== "ok" && !this.interrupted) {
            this.trigger({
                trigger: "validation",
                fired: true,
                detail: `propagation: ${this.phases[this.phases.length - 1].detail}`,
            });
        }
        return done.status === "ok";
    }

    /** 6. The validator's thresholds on the new version. */
    async postDeployValidation(): Promise<boolean> {
        this.markPhase("post-deploy validation");
        const ok = await this.validationPhase("post-deploy validation", "post-deploy");
        if (this.interrupted) {
            // Stopped, not judged: a cut-short hold is no validation failure.
            return false;
        }
        this.trigger({
            trigger: "validation",
            fired: !ok,
            detail: `post-deploy validation: ${this.phases[this.phases.length - 1].detail}`,
        });
        return ok;
    }

    /**
     * 7. The watch window: the validator's monitor probes every interval for the duration (the
     * handshake failure rate), then the 5xx rate over the same window against the window of the
     * same length just before `up`. Either above its threshold rolls back.
     */
    async watch(): Promise<boolean> {
        const settings = this.options.watch;
        if (settings.durationSec <= 0) {
            this.triggers.push(
                {
                    trigger: "handshake-failure-rate",
                    fired: undefined,
                    threshold: settings.maxHandshakeFailureRate,
                    detail: "no watch (--watch 0)",
                },
                {
                    trigger: "http-5xx-increase",
                    fired: undefined,
                    threshold: settings.max5xxIncrease,
                    detail: "no watch (--watch 0)",
                },
            );
            return true;
        }
        this.markPhase("watch");
        let fired: TriggerResult[] = [];
        const done = await this.phase("watch", async () => {
            const endpoint = await this.target.endpoint();
            if (!endpoint) {
                return { status: "failed", detail: "no endpoint to watch" };
            }
            const started = new Date();
            const result = await validate({
                ...this.options.validation,
                holdSec: 0,
                baseUrl: endpoint.url,
                source: endpoint.source,
                monitor: {
                    intervalSec: settings.intervalSec,
                    durationSec: settings.durationSec,
                    signal: this.options.signal,
                    print: this.options.log,
                },
            });
            const ended = new Date();
            this.validations.watch = result;
            if (this.interrupted) {
                return {
                    status: "skipped",
                    detail: `interrupted after ${((ended.getTime() - started.getTime()) / 1000).toFixed(0)} s; triggers not judged`,
                };
            }
            const length = ended.getTime() - started.getTime();
            const upAt = this.upStartedAt ?? started.getTime();
            const handshake = this.trigger(
                handshakeTrigger(result.monitor?.probes ?? [], settings.maxHandshakeFailureRate),
            );
            const source = settings.no5xxTrigger ? undefined : await this.target.metrics();
            const http5xx = this.trigger(
                await http5xxTrigger(
                    settings.no5xxTrigger ? "off" : source,
                    { start: new Date(upAt - length), end: new Date(upAt) },
                    { start: started, end: ended },
                    settings.max5xxIncrease,
                ).finally(() => source?.close?.()),
            );
            fired = [handshake, http5xx].filter((t) => t.fired === true);
            return {
                status: fired.length ? "failed" : "ok",
                detail: [handshake, http5xx].map(describeTrigger).join("; "),
            };
        });
        return done.status === "ok" || (done.status === "skipped" && fired.length === 0 && !this.interrupted);
    }

    /** 8. A good deploy records its commit, so the next rollback can return to it. */
    async recordGood(): Promise<void> {
        const revision = this.options.revision;
        if (!revision) {
            this.notes.push("not a git checkout: no commit recorded, so the next rollback can restore the config only");
            return;
        }
        if (revision.dirty.length > 0) {
            this.notes.push(
                "deployed with uncommitted changes (--allow-dirty): no commit recorded, the last recorded one stays",
            );
            return;
        }
        const done = await this.phase("record the good commit", async () => ({
            status: "ok",
            detail: await this.target.recordGood(revision.commit),
        }));
        if (done.status !== "ok") {
            // The deploy is good either way; only the next rollback loses its target.
            this.notes.push(
                `the deploy is good but its commit could not be recorded: the next rollback will restore the config only`,
            );
        }
    }

    /** 9a. Return to the snapshot. */
    async rollback(snapshot: Snapshot): Promise<boolean> {
        this.markPhase("rollback", false);
        if (!snapshot.lastGoodCommit) {
            this.notes.push(
                "no good commit was recorded for this stack: the rollback restored the config only, with the checkout's program",
            );
        }
        return (
            (await this.phase("rollback", async () => ({ status: "ok", detail: await this.target.rollback(snapshot) })))
                .status === "ok"
        );
    }

    /** 9b. Prove the rollback. */
    async validateRollback(): Promise<Report | undefined> {
        await this.validationPhase("validation after rollback", "after-rollback");
        return this.validations["after-rollback"];
    }
}

function describe(r: Report): string {
    return (
        `${r.verdict.toUpperCase()}: ${r.failures.length} failures${r.failures.length ? ` (${[...new Set(r.failures.map((f) => f.code))].join(", ")})` : ""}, ` +
        `${
            r.thresholds
                .filter((t) => t.passed === false)
                .map((t) => t.threshold.source)
                .join(", ") || "thresholds met"
        }`
    );
}

/**
 * A rollback that failed its validation is still a rollback when the stack was already failing
 * the same way before the deploy: no failure code and no breached threshold that the baseline did
 * not have.
 */
function noWorseThanBaseline(baseline: Report | undefined, after: Report | undefined): boolean {
    if (!baseline || !after || baseline.verdict === "pass") {
        return false;
    }
    const codes = new Set(baseline.failures.map((f) => f.code));
    const breached = new Set(baseline.thresholds.filter((t) => t.passed === false).map((t) => t.threshold.source));
    return (
        after.failures.every((f) => codes.has(f.code)) &&
        after.thresholds.filter((t) => t.passed === false).every((t) => breached.has(t.threshold.source))
    );
}

/**
 * The commands that return the stack to its previous state by hand. Commands are prefixed `$`;
 * anything else is a note, never dressed as a command.
 */
function rollbackCommands(
    stack: string,
    snapshot: Snapshot,
    revision: SourceRevision | undefined,
    reportFile: string | undefined,
): string[] {
    if (snapshot.lastGoodCommit) {
        return [
            `Return ${stack} to its last good commit ${snapshot.lastGoodCommit} (your checkout stays as it is):`,
            ...worktreeRollbackCommands(stack, snapshot.lastGoodCommit, revision?.projectPath ?? "").map(
                (c) => `  $ ${c}`,
            ),
        ];
    }
    const plain = Object.entries(snapshot.config).filter(([, v]) => !v.secret);
    const secret = Object.entries(snapshot.config).filter(([, v]) => v.secret);
    return [
        `No good commit was recorded for ${stack}: restore its previous config, then apply:`,
        `  $ pulumi stack select ${stack}`,
        ...plain.map(([k, v]) => `  $ pulumi config set ${k} ${shellQuote(v.value)}`),
        ...secret.map(([k]) => `  $ pulumi config set --secret ${k} <its previous value>`),
        ...(reportFile ? [`  (the same config is in ${reportFile} under snapshot.config)`] : []),
        `  $ pulumi up --stack ${stack} --policy-pack policies`,
    ];
}

function shellQuote(value: string): string {
    return /^[A-Za-z0-9_./:@=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** What a person does when the rollback failed too. */
function manualSteps(
    stack: string,
    snapshot: Snapshot,
    revision: SourceRevision | undefined,
    reportFile: string | undefined,
): string[] {
    return [
        `The stack ${stack} may be neither the new nor the old version. By hand:`,
        ...rollbackCommands(stack, snapshot, revision, reportFile),
        ...(snapshot.deploymentFile
            ? [
                  `Only if the state itself is damaged:`,
                  `  $ pulumi stack import --stack ${stack} --file ${snapshot.deploymentFile}`,
              ]
            : [`(no exported deployment was kept, so there is no state file to import)`]),
        `Then check what clients see:`,
        `  $ npm run validate -- --url <the stack's wss:// URL>`,
    ];
}

/**
 * Deploys a stack and proves it, rolling back on its own:
 * gate (offline preview) → preview with the pack → baseline validation (recorded) → snapshot →
 * (connections held and probed from here) up → propagation (re-validate with backoff) →
 * post-deploy validation → watch window (handshake failure rate, 5xx increase) → record the good
 * commit. On any trigger after up: rollback, then validate that against the baseline.
 * Ctrl-C (the signal) stops at the next safe point: before up nothing has changed; up is never
 * interrupted; after up the report carries the exact commands to roll back.
 */
export async function runPipeline(
    target: DeployTarget,
    gate: () => Promise<GateResult>,
    options: PipelineOptions,
): Promise<PipelineReport> {
    return releaseStateFile(await runPhases(target, gate, options));
}

/**
 * The state exported before `up` can hold secrets (in ciphertext): a temporary copy goes as soon
 * as the report is made, unless its manual steps tell a person to import it.
 */
function releaseStateFile(report: PipelineReport): PipelineReport {
    const snapshot = report.snapshot;
    const file = snapshot?.deploymentFile;
    if (!snapshot || !file || !snapshot.deploymentFileTemporary) {
        return report;
    }
    if (report.manualSteps?.some((step) => step.includes(file))) {
        return report;
    }
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    const kept: Snapshot = { ...snapshot, deploymentFile: undefined, deploymentFileTemporary: undefined };
    return { ...report, snapshot: kept };
}

async function runPhases(
    target: DeployTarget,
    gate: () => Promise<GateResult>,
    options: PipelineOptions,
): Promise<PipelineReport> {
    const run = new PipelineRun(target, options);
    let snapshot: Snapshot | undefined;
    try {
        const report = await runWith(run, gate, options, (s) => (snapshot = s));
        // A run that stopped after the snapshot may not carry it: its state file goes all the same.
        return report.snapshot || !snapshot ? report : releaseStateFile({ ...report, snapshot });
    } catch (e) {
        // A throw past the phases (a bug): the temporary state copy must not outlive it.
        if (snapshot?.deploymentFileTemporary && snapshot.deploymentFile) {
            fs.rmSync(path.dirname(snapshot.deploymentFile), { recursive: true, force: true });
        }
        throw e;
    }
}

/** Everything before `up`: a report when the run ends there, else the snapshot to roll back to. */
async function beforeUp(
    run: PipelineRun,
    gate: () => Promise<GateResult>,
    options: PipelineOptions,
    took: (snapshot: Snapshot) => void,
): Promise<{ report: PipelineReport } | { snapshot: Snapshot }> {
    const stoppedBeforeUp = () => {
        run.notes.push("interrupted before up: nothing was changed");
        return { report: run.report("interrupted", DEPLOY_EXIT.interrupted) };
    };
    if (!(await run.ready()) || !(await run.gate(gate))) {
        return { report: run.report("not-started", DEPLOY_EXIT.notStarted) };
    }
    if (run.interrupted) {
        return stoppedBeforeUp();
    }
    if (!(await run.preview())) {
        return { report: run.report("not-started", DEPLOY_EXIT.notStarted) };
    }
    if (options.dryRun) {
        return { report: run.report("dry-run", DEPLOY_EXIT.deployed) };
    }
    if (run.interrupted) {
        return stoppedBeforeUp();
    }
    await run.baseline();
    const snapshot = run.interrupted ? undefined : await run.snapshot();
    if (snapshot) {
        took(snapshot);
    }
    if (run.interrupted) {
        return stoppedBeforeUp();
    }
    if (!snapshot || !(await run.signals())) {
        return { report: run.report("not-started", DEPLOY_EXIT.notStarted, { snapshot }) };
    }
    return { snapshot };
}

async function runWith(
    run: PipelineRun,
    gate: () => Promise<GateResult>,
    options: PipelineOptions,
    took: (snapshot: Snapshot) => void,
): Promise<PipelineReport> {
    const ready = await beforeUp(run, gate, options, took);
    if ("report" in ready) {
        return ready.report;
    }
    const snapshot = ready.snapshot;
    try {
        await run.startKeeper();
        // Once up starts it runs to its end: killing the engine mid-update leaves pending operations.
        const upOk = await run.up();
        const good =
            upOk &&
            !run.interrupted &&
            (await run.propagation()) &&
            !run.interrupted &&
            (await run.postDeployValidation()) &&
            !run.interrupted &&
            (await run.watch());
        if (run.interrupted) {
            await run.stopKeeper();
            run.notes.push(
                `interrupted after up${upOk ? "" : " (which failed)"}: validation stopped; the stack runs the new version, unproven`,
            );
            return run.report("interrupted", DEPLOY_EXIT.interrupted, {
                snapshot,
                manualSteps: [
                    `To roll back:`,
                    ...rollbackCommands(options.stack, snapshot, options.revision, options.reportFile),
                ],
            });
        }
        if (good) {
            await run.stopKeeper();
            await run.recordGood();
            return run.report("deployed", DEPLOY_EXIT.deployed, { snapshot });
        }
        const rolledBack = await run.rollback(snapshot);
        const after = rolledBack ? await run.validateRollback() : undefined;
        await run.stopKeeper();
        if (rolledBack && after?.verdict === "pass") {
            return run.report("rolled-back", DEPLOY_EXIT.rolledBack, { snapshot });
        }
        if (rolledBack && noWorseThanBaseline(run.validations.baseline, after)) {
            run.notes.push(
                "the baseline was already failing before the deploy; the rollback restored the previous version, which fails no worse than it did",
            );
            return run.report("rolled-back", DEPLOY_EXIT.rolledBack, { snapshot });
        }
        return run.report("rollback-failed", DEPLOY_EXIT.rollbackFailed, {
            snapshot,
            manualSteps: manualSteps(options.stack, snapshot, options.revision, options.reportFile),
        });
    } finally {
        await run.stopKeeper();
    }
}

export function renderTimeline(report: PipelineReport): string {
    const width = Math.max(...report.phases.map((p) => p.name.length));
    const lines = [
        `deploy ${report.stack} to ${report.target}: ${report.outcome.toUpperCase()} (exit ${report.exitCode})`,
    ];
    for (const p of report.phases) {
        lines.push(
            `  ${p.name.padEnd(width)}  ${p.status.padEnd(8)} ${p.seconds.toFixed(1).padStart(6)} s  ${p.detail}`,
        );
    }
    if (report.fired) {
        const t = report.fired;
        const measured =
            t.value === undefined
                ? ""
                : ` (measured ${formatValue(t.trigger, t.value)}, threshold ${formatValue(t.trigger, t.threshold ?? 0)})`;
        lines.push("", `rollback trigger: ${TRIGGERS[t.trigger]}${measured}: ${t.detail}`);
    }
    for (const note of report.notes) {
        lines.push(`note: ${note}`);
    }
    if (report.manualSteps) {
        lines.push(
            "",
            report.outcome === "interrupted"
                ? "!!! INTERRUPTED after up: the new version is unproven."
                : "!!! ROLLBACK FAILED: the stack needs a person.",
            ...report.manualSteps,
        );
    }
    return lines.join("\n");
}

function formatValue(trigger: TriggerName, value: number): string {
    if (trigger === "handshake-failure-rate" || trigger === "http-5xx-increase") {
        return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : "∞";
    }
    return String(value);
}
