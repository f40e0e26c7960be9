import { errorText, EXIT } from "../cli/kit";
import { Report, validate, ValidateOptions } from "../validator";

/**
 * What the pipeline needs from a stack. The real one drives Pulumi's Automation API
 * (targets/automation.ts); the local stand-in (targets/stand-in.ts) lets the same pipeline run
 * here against real sockets.
 */
export interface DeployTarget {
    readonly description: string;
    /** Preview with the policy pack enforced; throws with the engine's message on failure. */
    preview(): Promise<string>;
    /** Everything a rollback needs: the config now and the deployment it can return to. */
    snapshot(): Promise<Snapshot>;
    /** Applies the desired config; throws on failure (the stack may be partly updated). */
    up(): Promise<string>;
    /** Restores the snapshot's config, pins Cloud Run traffic to its revisions, and applies. */
    rollback(snapshot: Snapshot): Promise<string>;
    /** The base URL to validate, once the stack exists. */
    endpoint(): Promise<{ url: string; source: string } | undefined>;
}

export interface Snapshot {
    readonly config: Record<string, { value: string; secret: boolean }>;
    /** The stack's deployment version (or the stand-in's), for the report. */
    readonly version?: number;
    /** Cloud Run backend name to the revision serving before the deploy. */
    readonly cloudRunRevisions: Record<string, string>;
    /** The exported deployment, kept so an operator can `pulumi stack import` it by hand. */
    readonly deploymentFile?: string;
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
    /** Monitor after a successful deploy, with the validator's monitor mode. */
    readonly monitor?: { intervalSec: number; durationSec: number; signal?: AbortSignal };
    readonly log: (line: string) => void;
}

export type PhaseStatus = "ok" | "failed" | "skipped" | "recorded";

export interface Phase {
    readonly name: string;
    readonly status: PhaseStatus;
    readonly seconds: number;
    readonly detail: string;
}

export interface PipelineReport {
    readonly stack: string;
    readonly target: string;
    readonly outcome: "deployed" | "dry-run" | "not-started" | "rolled-back" | "rollback-failed";
    readonly exitCode: (typeof DEPLOY_EXIT)[keyof typeof DEPLOY_EXIT];
    readonly phases: Phase[];
    readonly validations: Record<string, Report>;
    readonly snapshot?: Snapshot;
    readonly manualSteps?: string[];
}

/** The deploy command's outcomes as the kit's exit codes (README.md, "Exit codes"). */
export const DEPLOY_EXIT = { deployed: EXIT.ok, rolledBack: EXIT.failed, notStarted: EXIT.usage, rollbackFailed: EXIT.rollbackFailed } as const;

type PhaseResult<T> = { status: PhaseStatus; detail: string; value?: T };

/** One pipeline run: its phases, each a method, and the record they leave for the report. */
class PipelineRun {
    readonly phases: Phase[] = [];
    readonly validations: Record<string, Report> = {};

    constructor(
        private readonly target: DeployTarget,
        private readonly options: PipelineOptions,
    ) {}

    report(outcome: PipelineReport["outcome"], exitCode: PipelineReport["exitCode"], extra: Partial<PipelineReport> = {}): PipelineReport {
        return { stack: this.options.stack, target: this.target.description, outcome, exitCode, phases: this.phases, validations: this.validations, ...extra };
    }

    /** Runs one phase, timing and logging it; a throw is a failed phase. */
    private async phase<T>(name: string, run: () => Promise<PhaseResult<T>>): Promise<{ status: PhaseStatus; value?: T }> {
        const started = Date.now();
        this.options.log(`▶ ${name}`);
        let result: PhaseResult<T>;
        try {
            result = await run();
        } catch (e) {
            result = { status: "failed", detail: errorText(e) };
        }
        const seconds = (Date.now() - started) / 1000;
        this.phases.push({ name, status: result.status, seconds, detail: result.detail });
        this.options.log(`  ${result.status.toUpperCase()} in ${seconds.toFixed(1)} s: ${result.detail}`);
        return result;
    }

    private async validateNow(key: string): Promise<Report | undefined> {
        const endpoint = await this.target.endpoint();
        if (!endpoint) {
            return undefined;
        }
        const result = await validate({ ...this.options.validation, baseUrl: endpoint.url, source: endpoint.source });
        this.validations[key] = result;
        return result;
    }

    /** A validation that passes or fails the phase. */
    private async validationPhase(name: string, key: string): Promise<boolean> {
        const done = await this.phase(name, async () => {
            const result = await this.validateNow(key);
            return { status: result?.verdict === "pass" ? "ok" : "failed", detail: result ? describe(result) : "no endpoint" };
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
        return (await this.phase("preview with the policy pack", async () => ({ status: "ok", detail: await this.target.preview() }))).status === "ok";
    }

    /** 3. What clients see now, for comparison. Not a gate. */
    async baseline(): Promise<void> {
        await this.phase("baseline validation (recorded, not a gate)", async () => {
            const result = await this.validateNow("baseline");
            return { status: result ? "recorded" : "skipped", detail: result ? describe(result) : "no endpoint yet (new stack)" };
        });
    }

    /** 4a. What a rollback needs. */
    async snapshot(): Promise<Snapshot | undefined> {
        const saved = await this.phase<Snapshot>("snapshot for rollback", async () => {
            const snapshot = await this.target.snapshot();
            return { status: "ok", detail: `config of ${Object.keys(snapshot.config).length} keys, version ${snapshot.version ?? "-"}`, value: snapshot };
        });
        return saved.status === "ok" ? saved.value : undefined;
    }

    /** 4b. Apply the change. */
    async up(): Promise<boolean> {
        return (await this.phase("up", async () => ({ status: "ok", detail: await this.target.up() }))).status === "ok";
    }

    /**
     * 5. The load balancer takes a while to serve a new config: re-validate with backoff until it
     * passes or the timeout is reached; no blind sleep.
     */
    async propagation(): Promise<boolean> {
        const timeoutSec = this.options.propagationTimeoutSec;
        const done = await this.phase("propagation", async () => {
            const deadline = Date.now() + timeoutSec * 1000;
            let wait = 1000;
            for (let attempt = 1; ; attempt++) {
                const result = await this.validateNow(`propagation-${attempt}`);
                if (result?.verdict === "pass") {
                    return { status: "ok", detail: `thresholds held on attempt ${attempt}` };
                }
                if (Date.now() + wait > deadline) {
                    return { status: "failed", detail: `still failing after ${attempt} attempts and ${timeoutSec} s: ${result ? describe(result) : "no endpoint"}` };
                }
                await new Promise((resolve) => setTimeout(resolve, wait));
                wait = Math.min(wait * 2, 30_000);
            }
        });
        return done.status === "ok";
    }

    /** 6. The validator's thresholds on the new version. */
    postDeployValidation(): Promise<boolean> {
        return this.validationPhase("post-deploy validation", "post-deploy");
    }

    /** After a good deploy: the validator's monitor mode. */
    async monitor(settings: NonNullable<PipelineOptions["monitor"]>): Promise<void> {
        await this.phase("monitor", async () => {
            const endpoint = await this.target.endpoint();
            const result = await validate({
                ...this.options.validation,
                holdSec: 0,
                baseUrl: endpoint!.url,
                source: endpoint!.source,
                monitor: { ...settings, print: this.options.log },
            });
            this.validations.monitor = result;
            return { status: result.verdict === "pass" ? "ok" : "failed", detail: describe(result) };
        });
    }

    /** 7a. Return to the snapshot. */
    async rollback(snapshot: Snapshot): Promise<boolean> {
        return (await this.phase("rollback", async () => ({ status: "ok", detail: await this.target.rollback(snapshot) }))).status === "ok";
    }

    /** 7b. Prove the rollback. */
    validateRollback(): Promise<boolean> {
        return this.validationPhase("validation after rollback", "after-rollback");
    }
}

function describe(r: Report): string {
    return (
        `${r.verdict.toUpperCase()}: ${r.failures.length} failures${r.failures.length ? ` (${[...new Set(r.failures.map((f) => f.code))].join(", ")})` : ""}, ` +
        `${r.thresholds.filter((t) => t.passed === false).map((t) => t.threshold.source).join(", ") || "thresholds met"}`
    );
}

/** What a person does when the rollback failed too. */
function manualSteps(stack: string, snapshot: Snapshot): string[] {
    return [
        `The stack ${stack} may be neither the new nor the old version. By hand:`,
        `  pulumi stack select ${stack}`,
        `  pulumi config set-all --path ... (the saved config is in this report under snapshot.config)`,
        snapshot.deploymentFile
            ? `  pulumi stack import --file ${snapshot.deploymentFile}   (only if the state itself is damaged)`
            : "  pulumi stack export > before.json is not available: the snapshot kept no deployment file",
        `  pulumi up --policy-pack policies`,
        `  npm run validate -- --url <the stack's wss:// URL>`,
    ];
}

/**
 * Deploys a stack and proves it, rolling back on its own:
 * gate (offline preview) → preview with the pack → baseline validation (recorded) → snapshot,
 * up → propagation (re-validate with backoff) → post-deploy validation → on any failure after
 * up: rollback, then validate that.
 */
export async function runPipeline(target: DeployTarget, gate: () => Promise<GateResult>, options: PipelineOptions): Promise<PipelineReport> {
    const run = new PipelineRun(target, options);
    if (!(await run.gate(gate)) || !(await run.preview())) {
        return run.report("not-started", DEPLOY_EXIT.notStarted);
    }
    if (options.dryRun) {
        return run.report("dry-run", DEPLOY_EXIT.deployed);
    }
    await run.baseline();
    const snapshot = await run.snapshot();
    if (!snapshot) {
        return run.report("not-started", DEPLOY_EXIT.notStarted);
    }
    if ((await run.up()) && (await run.propagation()) && (await run.postDeployValidation())) {
        if (options.monitor) {
            await run.monitor(options.monitor);
        }
        return run.report("deployed", DEPLOY_EXIT.deployed, { snapshot });
    }
    if ((await run.rollback(snapshot)) && (await run.validateRollback())) {
        return run.report("rolled-back", DEPLOY_EXIT.rolledBack, { snapshot });
    }
    return run.report("rollback-failed", DEPLOY_EXIT.rollbackFailed, { snapshot, manualSteps: manualSteps(options.stack, snapshot) });
}

export function renderTimeline(report: PipelineReport): string {
    const width = Math.max(...report.phases.map((p) => p.name.length));
    const lines = [`deploy ${report.stack} to ${report.target}: ${report.outcome.toUpperCase()} (exit ${report.exitCode})`];
    for (const p of report.phases) {
        lines.push(`  ${p.name.padEnd(width)}  ${p.status.padEnd(8)} ${p.seconds.toFixed(1).padStart(6)} s  ${p.detail}`);
    }
    if (report.manualSteps) {
        lines.push("", "!!! ROLLBACK FAILED: the stack needs a person.", ...report.manualSteps);
    }
    return lines.join("\n");
}
