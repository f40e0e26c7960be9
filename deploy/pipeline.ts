import { Report, validate, ValidateOptions } from "../validator/run";

/**
 * What the pipeline needs from a stack. The real one drives Pulumi's Automation API
 * (targets/automation.ts); the local stand-in (targets/standIn.ts) lets the same pipeline run
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
    readonly exitCode: 0 | 1 | 2 | 3;
    readonly phases: Phase[];
    readonly validations: Record<string, Report>;
    readonly snapshot?: Snapshot;
    readonly manualSteps?: string[];
}

/** Exit codes: deployed and valid; rolled back and valid; could not start; rollback failed too. */
export const EXIT = { deployed: 0, rolledBack: 1, notStarted: 2, rollbackFailed: 3 } as const;

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/**
 * Deploys a stack and proves it, rolling back on its own:
 * gate (offline preview) → preview with the pack → baseline validation (recorded) → snapshot,
 * up → propagation (re-validate with backoff) → post-deploy validation → on any failure after
 * up: rollback, then validate that.
 */
export async function runPipeline(target: DeployTarget, gate: () => Promise<GateResult>, options: PipelineOptions): Promise<PipelineReport> {
    const phases: Phase[] = [];
    const validations: Record<string, Report> = {};
    const log = options.log;
    const report = (outcome: PipelineReport["outcome"], exitCode: PipelineReport["exitCode"], extra: Partial<PipelineReport> = {}): PipelineReport => ({
        stack: options.stack,
        target: target.description,
        outcome,
        exitCode,
        phases,
        validations,
        ...extra,
    });

    async function phase<T>(name: string, run: () => Promise<{ status: PhaseStatus; detail: string; value?: T }>): Promise<{ status: PhaseStatus; value?: T }> {
        const started = Date.now();
        log(`▶ ${name}`);
        let result: { status: PhaseStatus; detail: string; value?: T };
        try {
            result = await run();
        } catch (e) {
            result = { status: "failed", detail: message(e) };
        }
        const seconds = (Date.now() - started) / 1000;
        phases.push({ name, status: result.status, seconds, detail: result.detail });
        log(`  ${result.status.toUpperCase()} in ${seconds.toFixed(1)} s: ${result.detail}`);
        return result;
    }

    async function validateNow(key: string): Promise<Report | undefined> {
        const endpoint = await target.endpoint();
        if (!endpoint) {
            return undefined;
        }
        const result = await validate({ ...options.validation, baseUrl: endpoint.url, source: endpoint.source });
        validations[key] = result;
        return result;
    }

    const describe = (r: Report) =>
        `${r.verdict.toUpperCase()}: ${r.failures.length} failures${r.failures.length ? ` (${[...new Set(r.failures.map((f) => f.code))].join(", ")})` : ""}, ` +
        `${r.thresholds.filter((t) => t.passed === false).map((t) => t.threshold.source).join(", ") || "thresholds met"}`;

    // 1. Offline preview gate.
    const gated = await phase("gate: offline preview with the policy pack", async () => {
        const result = await gate();
        return { status: result.ok ? "ok" : "failed", detail: result.summary };
    });
    if (gated.status !== "ok") {
        return report("not-started", EXIT.notStarted);
    }

    // 2. Preview with the policy pack through the Automation API.
    const previewed = await phase("preview with the policy pack", async () => ({ status: "ok", detail: await target.preview() }));
    if (previewed.status !== "ok") {
        return report("not-started", EXIT.notStarted);
    }
    if (options.dryRun) {
        return report("dry-run", EXIT.deployed);
    }

    // 3. Baseline: what clients see now, for comparison. Not a gate.
    await phase("baseline validation (recorded, not a gate)", async () => {
        const result = await validateNow("baseline");
        return { status: result ? "recorded" : "skipped", detail: result ? describe(result) : "no endpoint yet (new stack)" };
    });

    // 4. Save what rollback needs, then up.
    const saved = await phase<Snapshot>("snapshot for rollback", async () => {
        const snapshot = await target.snapshot();
        return { status: "ok", detail: `config of ${Object.keys(snapshot.config).length} keys, version ${snapshot.version ?? "-"}`, value: snapshot };
    });
    if (saved.status !== "ok" || !saved.value) {
        return report("not-started", EXIT.notStarted);
    }
    const snapshot = saved.value;
    const upped = await phase("up", async () => ({ status: "ok", detail: await target.up() }));

    let healthy = false;
    if (upped.status === "ok") {
        // 5. Propagation: the load balancer takes a while to serve a new config. Re-validate with
        // backoff until it passes or the timeout is reached; no blind sleep.
        const propagated = await phase("propagation", async () => {
            const deadline = Date.now() + options.propagationTimeoutSec * 1000;
            let wait = 1000;
            for (let attempt = 1; ; attempt++) {
                const result = await validateNow(`propagation-${attempt}`);
                if (result?.verdict === "pass") {
                    return { status: "ok", detail: `thresholds held on attempt ${attempt}` };
                }
                if (Date.now() + wait > deadline) {
                    return { status: "failed", detail: `still failing after ${attempt} attempts and ${options.propagationTimeoutSec} s: ${result ? describe(result) : "no endpoint"}` };
                }
                await new Promise((resolve) => setTimeout(resolve, wait));
                wait = Math.min(wait * 2, 30_000);
            }
        });
        // 6. Post-deploy validation with the validator's thresholds.
        if (propagated.status === "ok") {
            const validated = await phase("post-deploy validation", async () => {
                const result = await validateNow("post-deploy");
                return { status: result?.verdict === "pass" ? "ok" : "failed", detail: result ? describe(result) : "no endpoint" };
            });
            healthy = validated.status === "ok";
        }
    }

    if (healthy) {
        if (options.monitor) {
            await phase("monitor", async () => {
                const endpoint = await target.endpoint();
                const result = await validate({
                    ...options.validation,
                    holdSec: 0,
                    baseUrl: endpoint!.url,
                    source: endpoint!.source,
                    monitor: { ...options.monitor!, print: log },
                });
                validations.monitor = result;
                return { status: result.verdict === "pass" ? "ok" : "failed", detail: describe(result) };
            });
        }
        return report("deployed", EXIT.deployed, { snapshot });
    }

    // 7. Roll back, then prove the rollback.
    const rolledBack = await phase("rollback", async () => ({ status: "ok", detail: await target.rollback(snapshot) }));
    if (rolledBack.status === "ok") {
        const after = await phase("validation after rollback", async () => {
            const result = await validateNow("after-rollback");
            return { status: result?.verdict === "pass" ? "ok" : "failed", detail: result ? describe(result) : "no endpoint" };
        });
        if (after.status === "ok") {
            return report("rolled-back", EXIT.rolledBack, { snapshot });
        }
    }
    return report("rollback-failed", EXIT.rollbackFailed, {
        snapshot,
        manualSteps: [
            `The stack ${options.stack} may be neither the new nor the old version. By hand:`,
            `  pulumi stack select ${options.stack}`,
            `  pulumi config set-all --path ... (the saved config is in this report under snapshot.config)`,
            snapshot.deploymentFile
                ? `  pulumi stack import --file ${snapshot.deploymentFile}   (only if the state itself is damaged)`
                : "  pulumi stack export > before.json is not available: the snapshot kept no deployment file",
            `  pulumi up --policy-pack policies`,
            `  npm run validate -- --url <the stack's wss:// URL>`,
        ],
    });
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
