import * as path from "path";
import { thresholdsFrom, describeFailure } from "./report";
import { validate } from "./run";
import { loadScenario, type ScenarioResult } from "./scenario";

// The synthetic monitor's check: the scenario file run against the live endpoint, inside a Cloud
// Function (2nd gen) that Cloud Monitoring calls every period. Google's synthetics SDK wraps it
// (runSyntheticHandler): a function that resolves is a passed run, one that throws is a failed run
// whose error message the monitor shows (@google-cloud/synthetics-sdk-api 0.7.0,
// build/src/handlers.d.ts, runSyntheticHandler's doc comment). So this throws one Error naming every
// failed check, and knows nothing of the SDK: the function's entry file (infra/synthetic-monitor.ts)
// does the wrapping.

/** Environment variables the function reads. */
export const SYNTHETIC_ENV = {
    /** Base URL to check, such as wss://chat.example.com. */
    url: "WS_VALIDATE_URL",
    /** Scenario file, relative to this file's folder unless absolute. */
    scenario: "WS_VALIDATE_SCENARIO",
} as const;

const DEFAULT_SYNTHETIC_SCENARIO = "scenarios/chat.yaml";

/** The subset of the SDK's winston logger the check writes to. */
interface SyntheticLogger {
    info(message: string): unknown;
    error(message: string): unknown;
}

/** A failed monitor run; its message lists each failed check with its evidence. */
class ChatCheckFailed extends Error {
    constructor(
        message: string,
        readonly result?: ScenarioResult,
    ) {
        super(message);
        this.name = "ChatCheckFailed";
    }
}

/** Runs the scenario once against the configured URL; resolves when every check passed. */
export async function runChatChecks(
    env: NodeJS.ProcessEnv,
    logger: SyntheticLogger = console,
): Promise<ScenarioResult> {
    const url = env[SYNTHETIC_ENV.url];
    if (!url || !/^wss?:\/\//.test(url)) {
        throw new ChatCheckFailed(
            `${SYNTHETIC_ENV.url} ${JSON.stringify(url ?? "")}: expected the ws:// or wss:// base URL to check`,
        );
    }
    const file = path.resolve(__dirname, env[SYNTHETIC_ENV.scenario] ?? DEFAULT_SYNTHETIC_SCENARIO);
    const scenario = loadScenario(file, env);
    const report = await validate({
        baseUrl: url,
        source: "synthetic monitor",
        endpoints: [],
        thresholds: thresholdsFrom([]),
        scenario,
        handshakeTimeoutMs: 10_000,
        messages: 0,
        echo: false,
        messageTimeoutMs: 5_000,
        holdSec: 0,
        holdMode: "idle",
        pingIntervalSec: 5,
    });
    const result = report.scenario!;
    for (const check of result.checks) {
        logger.info(
            `${check.failed === 0 ? "ok" : "FAIL"} ${check.name} (${check.passed}/${check.runs} passed, p95 ${check.durationMs.p95?.toFixed(0) ?? "-"} ms)`,
        );
    }
    const failed = result.checks.flatMap((c) => c.failures.slice(0, 1).map((f) => describeFailure(c.name, f)));
    if (failed.length > 0) {
        failed.forEach((line) => logger.error(line));
        throw new ChatCheckFailed(
            `${failed.length} of ${result.checks.length} chat checks failed against ${url}: ${failed.join(" | ")}`,
            result,
        );
    }
    return result;
}

/**
 * The function the synthetics SDK runs: the environment of the Cloud Function, its logger. Called
 * by the function's entry file, which infra/synthetic-monitor.ts writes.
 * @public
 */
export async function syntheticCheck(args: { logger?: SyntheticLogger }): Promise<void> {
    await runChatChecks(process.env, args.logger ?? console);
}
