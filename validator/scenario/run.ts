import { performance } from "perf_hooks";
import { closeSocket, distribution, Distribution, FailureCode, round } from "../core";
import type { Closed } from "./connection";
import type { Check, Scenario } from "./parse";
import {
    definitionOf,
    type ScenarioRunOptions,
    type Step,
    type StepFailure,
    type StepKind,
    type StepRun,
    type Steps,
} from "./steps";

export type { ScenarioRunOptions, StepFailure } from "./steps";

// Runs a scenario's checks against a base URL. Each run of a check owns one connection at a time;
// a failed step stops its check and says what was expected and what arrived.

export interface CheckResult {
    readonly name: string;
    readonly runs: number;
    readonly passed: number;
    readonly failed: number;
    readonly durationMs: Distribution;
    /** The first few failures (all runs of a load usually fail the same way). */
    readonly failures: StepFailure[];
}

export interface ScenarioResult {
    readonly file: string;
    readonly checks: CheckResult[];
    /** Passed runs over all runs of all checks. */
    readonly successRate: number;
}

const KEPT_FAILURES = 5;

/** One step run: its start, and its failures filled with what the connection saw. */
function stepRun(state: Omit<StepRun, "started" | "failed" | "closedEarly">, index: number, step: Step): StepRun {
    const started = performance.now();
    const run: StepRun = Object.assign(state, {
        started,
        failed: (code: FailureCode, message: string, expected: string, extra: Partial<StepFailure> = {}) => ({
            code,
            message,
            step: index + 1,
            kind: step.kind,
            line: step.line,
            expected,
            received: run.connection?.recent(code === "STEP_MISMATCH") ?? [],
            closeCode: run.connection?.closed?.code,
            closeReason: run.connection?.closed?.reason || undefined,
            elapsedMs: round(performance.now() - started, 1) ?? 0,
            ...extra,
        }),
        closedEarly: (closed: Closed, expected: string) =>
            run.failed(
                "UNEXPECTED_CLOSE",
                `the connection closed (code ${closed.code}) while the step waited`,
                expected,
            ),
    });
    return run;
}

function runStep<K extends StepKind>(step: Steps[K] & { kind: K }, run: StepRun): Promise<StepFailure | undefined> {
    const definition = definitionOf(step.kind);
    if (!definition.needsConnection) {
        return definition.run(step, run);
    }
    // The parser wants a connect step first, but one that expects a refusal (HTTP 403) opens nothing.
    return run.connection
        ? definition.run(step, run, run.connection)
        : Promise.resolve(
              run.failed(
                  "UNEXPECTED_CLOSE",
                  `a ${step.kind} step needs an open connection, and no connect step before it opened one`,
                  "an open connection",
              ),
          );
}

/** Runs one check once: its steps in order, stopping at the first that fails. */
async function runCheckOnce(
    check: Check,
    baseUrl: string,
    options: ScenarioRunOptions,
): Promise<StepFailure | undefined> {
    const state = { baseUrl, options, vars: new Map<string, unknown>(), sent: undefined, connection: undefined };
    let run: StepRun | undefined;
    try {
        for (const [index, step] of check.steps.entries()) {
            run = stepRun(state, index, step);
            if (options.signal?.aborted) {
                return run.failed(
                    "INTERRUPTED",
                    "stopped by an interrupt before this step",
                    `the ${step.kind} step to run`,
                );
            }
            const failure = await runStep(step, run);
            if (failure) {
                return failure;
            }
        }
        return undefined;
    } finally {
        const open = run?.connection;
        if (open && !open.closed) {
            await closeSocket(open.ws);
        }
    }
}

/** Runs `task` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(
    items: readonly T[],
    limit: number,
    task: (item: T) => Promise<R>,
    stop?: AbortSignal,
): Promise<R[]> {
    const results: R[] = [];
    let nextIndex = 0;
    const worker = async () => {
        while (nextIndex < items.length && !stop?.aborted) {
            const i = nextIndex++;
            results[i] = await task(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    // Without the items an interrupt kept from starting: they were not run, so they are not counted.
    return results.filter(() => true);
}

async function runCheck(check: Check, baseUrl: string, options: ScenarioRunOptions): Promise<CheckResult> {
    const runs = await mapLimit(
        Array.from({ length: check.repeat }, (_, i) => i),
        check.parallel,
        async () => {
            const started = performance.now();
            const failure = await runCheckOnce(check, baseUrl, options);
            return { failure, ms: performance.now() - started };
        },
        options.signal,
    );
    const failures = runs.flatMap((r) => (r.failure ? [r.failure] : []));
    return {
        name: check.name,
        runs: runs.length,
        passed: runs.length - failures.length,
        failed: failures.length,
        durationMs: distribution(runs.map((r) => round(r.ms, 1) ?? r.ms)),
        failures: failures.slice(0, KEPT_FAILURES),
    };
}

/** Runs every check of a scenario (in order, or `parallel` at once) against a base URL. */
export async function runScenario(
    scenario: Scenario,
    baseUrl: string,
    options: ScenarioRunOptions,
): Promise<ScenarioResult> {
    const checks = await mapLimit(
        scenario.checks,
        scenario.parallel,
        (check) => runCheck(check, baseUrl, options),
        options.signal,
    );
    const runs = checks.reduce((n, c) => n + c.runs, 0);
    const passed = checks.reduce((n, c) => n + c.passed, 0);
    return { file: scenario.file, checks, successRate: runs === 0 ? 1 : passed / runs };
}
