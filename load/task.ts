// One task of the load job: what validator/Dockerfile runs in every Cloud Run task, and what the
// local Cloud Run Admin API server of the tests starts as a process per task. It takes its share
// of the load, opens it at the start time every task was given, and writes its shard to the bucket.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { boundedFlag, CliIo, EXIT, errorText, runMain, sleep, UsageError } from "../cli/kit";
import { main as validateMain } from "../validator/cli";
import { openBucket, shardObjectName } from "./storage";

/** What a task reads from its environment; the bounds are `npm run load`'s (load/cli.ts). */
export const TASK_ENV = {
    /** Set by Cloud Run in every task: https://cloud.google.com/run/docs/container-contract#jobs-env-vars */
    index: "CLOUD_RUN_TASK_INDEX",
    count: "CLOUD_RUN_TASK_COUNT",
    /** The job's template (infra/load-test.ts). */
    bucket: "LOAD_BUCKET",
    url: "LOAD_TARGET_URL",
    /** The execution's overrides (load/cli.ts), the same for every task. */
    runId: "LOAD_RUN_ID",
    connections: "LOAD_CONNECTIONS",
    rate: "LOAD_RATE",
    holdSec: "LOAD_HOLD_SEC",
    startAt: "LOAD_START_AT",
    /** Optional: a source address list for --local-address (the local tests give each task its own). */
    localAddress: "LOAD_LOCAL_ADDRESS",
} as const;

/** A job runs at most 10,000 tasks (https://cloud.google.com/run/docs/create-jobs). */
export const MAX_TASKS = 10_000;
/** How far ahead a start time may be: past this it is a clock or a typo, not a wait. */
const MAX_START_WAIT_SEC = 3600;

export interface TaskPlan {
    readonly index: number;
    readonly count: number;
    readonly bucket: string;
    readonly url: string;
    readonly runId: string;
    /** This task's share. */
    readonly connections: number;
    readonly rate: number;
    readonly holdSec: number;
    readonly startAt: Date;
    readonly localAddress?: string;
}

/**
 * Task `index`'s share of `total`: the shares differ by at most one and add up to the total, the
 * first `total % count` tasks taking one more.
 */
export function shareOf(total: number, index: number, count: number): number {
    return Math.floor(total / count) + (index < total % count ? 1 : 0);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
    const value = env[name];
    if (value === undefined || value === "") {
        throw new UsageError(`${name} is not set; the load job's template and its execution's overrides set it`);
    }
    return value;
}

function numberEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number, integer: boolean): number {
    const value = required(env, name);
    try {
        return boundedFlag(name, value, 0, { min, max, integer, unit: integer ? "units" : "a number" });
    } catch {
        throw new UsageError(
            `${name}=${JSON.stringify(value)}: expected ${integer ? "a whole number" : "a number"} from ${min} to ${max}`,
        );
    }
}

/** The task's plan from its environment: one line naming the variable when one is wrong. */
export function taskPlan(env: NodeJS.ProcessEnv, now = new Date()): TaskPlan {
    const count = numberEnv(env, TASK_ENV.count, 1, MAX_TASKS, true);
    const index = numberEnv(env, TASK_ENV.index, 0, count - 1, true);
    const total = numberEnv(env, TASK_ENV.connections, count, 1_000_000 * count, true);
    const rate = numberEnv(env, TASK_ENV.rate, 0.01, 100_000 * count, false);
    const startText = required(env, TASK_ENV.startAt);
    const startAt = new Date(startText);
    if (Number.isNaN(startAt.getTime()) || startAt.getTime() - now.getTime() > MAX_START_WAIT_SEC * 1000) {
        throw new UsageError(
            `${TASK_ENV.startAt}=${JSON.stringify(startText)}: expected an ISO 8601 time at most ${MAX_START_WAIT_SEC} s ahead`,
        );
    }
    const runId = required(env, TASK_ENV.runId);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(runId)) {
        throw new UsageError(`${TASK_ENV.runId}=${JSON.stringify(runId)}: expected lower-case letters, digits and -`);
    }
    return {
        index,
        count,
        bucket: required(env, TASK_ENV.bucket),
        url: required(env, TASK_ENV.url),
        runId,
        connections: shareOf(total, index, count),
        rate: rate / count,
        holdSec: numberEnv(env, TASK_ENV.holdSec, 0, 24 * 3600, false),
        startAt,
        localAddress: env[TASK_ENV.localAddress] || undefined,
    };
}

/** The validator's command line for this task's share, its shard written to `shardFile`. */
export function validatorArgs(plan: TaskPlan, shardFile: string): string[] {
    return [
        plan.url,
        "--connections",
        String(plan.connections),
        "--rate",
        String(plan.rate),
        "--hold",
        String(plan.holdSec),
        "--hold-mode",
        "idle",
        // The endpoint probe's handshake and round trip only: its hold would delay the load past
        // the start time every task shares.
        "--probe-hold",
        "0",
        "--messages",
        "1",
        "--handshake-timeout",
        "30",
        "--shard-out",
        shardFile,
        ...(plan.localAddress ? ["--local-address", plan.localAddress] : []),
    ];
}

async function taskMain(_argv: string[], io: CliIo): Promise<number> {
    let plan: TaskPlan;
    try {
        plan = taskPlan(io.env);
    } catch (e) {
        io.err(`error: ${errorText(e)}`);
        return EXIT.usage;
    }
    const name = `task ${plan.index} of ${plan.count}`;
    const waitMs = plan.startAt.getTime() - Date.now();
    io.err(
        `${name}: ${plan.connections} connections at ${plan.rate.toFixed(2)}/s to ${plan.url}, held ${plan.holdSec} s, from ${plan.startAt.toISOString()}${waitMs > 0 ? ` (in ${(waitMs / 1000).toFixed(1)} s)` : ""}`,
    );
    try {
        await sleep(Math.max(0, waitMs), io.signal);
    } catch {
        io.err(`${name}: interrupted before the start time; no connection was opened and no shard written`);
        return EXIT.interrupted;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "load-task-"));
    try {
        const shardFile = path.join(dir, "shard.json");
        const code = await validateMain(validatorArgs(plan, shardFile), io);
        if (!fs.existsSync(shardFile)) {
            io.err(`${name}: the validator ended (exit ${code}) without a shard; nothing to upload`);
            return code === EXIT.ok ? EXIT.failed : code;
        }
        const object = shardObjectName(plan.runId, plan.index);
        // The upload goes ahead after an interrupt too: the shard says it was interrupted, and what
        // was measured until then is worth keeping.
        await openBucket(io.env, plan.bucket).file(object).save(fs.readFileSync(shardFile), {
            contentType: "application/json",
            resumable: false,
        });
        io.err(`${name}: shard written to gs://${plan.bucket}/${object} (validator exit ${code})`);
        // The verdict is the merge's, on every shard together; a task's own thresholds do not fail it.
        return code === EXIT.interrupted ? EXIT.interrupted : EXIT.ok;
    } catch (e) {
        io.err(`${name}: could not write the shard to gs://${plan.bucket}: ${errorText(e)}`);
        return EXIT.failed;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    runMain(taskMain);
}
