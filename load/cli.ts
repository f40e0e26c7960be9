// `npm run load`: the load from many machines. Runs the stack's load job (infra/load-test.ts) on
// Cloud Run with this run's task count and share of the load, follows its execution, reads every
// task's shard from the stack's bucket, merges them (validator/merge.ts) and judges the thresholds
// on the merged data, with `ws-validate merge`'s exit codes.
import { randomBytes } from "crypto";
import {
    numericFlag,
    numericFlagReader,
    NumericFlagName,
    checkOutputPath,
    CliIo,
    EXIT,
    errorText,
    FlagError,
    InterruptedError,
    parseFlags,
    reportError,
    runMain,
    UsageError,
    whenAborted,
} from "../cli/kit";
import { METRICS, renderReport, reportJson, thresholdsFrom } from "../validator";
import { ApiTimeoutError, cancelExecution, openRunApi, progressText, RunApi, runJob } from "./cloud-run";
import { checkCredentials, LoadTestOutputs, readLoadTestOutputs } from "./stack";
import { MAX_TASKS, TASK_ENV } from "./task";
import { judgeShards } from "./judge";

export const USAGE = `usage: npm run load -- --stack STACK --tasks N --connections N [options]

Runs the stack's load job on Cloud Run (the stack's loadTest setting creates it): N tasks, each
opening its share of the connections at the same start time and holding them, each writing its
result to the stack's bucket; then merges the shards and judges the thresholds on the merged data.

options:
      --stack NAME            the stack whose load job runs (its outputs name the job and bucket)
      --stack-outputs FILE    the stack's \`pulumi stack output --json\` (default: asks pulumi)
      --tasks N               Cloud Run tasks, each one machine (default 4, 1 to ${MAX_TASKS})
      --connections N         connections in all, shared out over the tasks (1 to 1000000 per task)
      --rate R                connections opened per second in all (default 500 per task)
      --hold SEC              how long every connection is held (default 60, 0 to 86400)
      --url URL               the WebSocket URL to load (default: the job's, the stack's first domain)
      --start-delay SEC       the tasks start together this long after RunJob (default 60, 0 to 3600):
                              time for Cloud Run to start every task's container
      --threshold EXPR        replace a threshold, such as 'handshake_p95_ms<500' (repeatable)
  -j, --json                  print the merged report as JSON
      --report FILE           also write the JSON report to FILE
      --report-html FILE      also write the HTML report to FILE
      --api-timeout SEC       each Cloud Run or Cloud Storage call's limit (default 60, 1 to 600)
      --poll SEC              seconds between looks at the execution (default 5, 0.1 to 60)
  -h, --help                  show this help

Credentials: the Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, or
gcloud auth application-default login). metrics for --threshold: ${Object.keys(METRICS).join(", ")}
Ctrl-C or SIGTERM cancels the execution (exit 130).
exit codes: 0 all thresholds met, 1 a threshold breached, a task failed or wrote no shard, or the
job could not be run, 2 usage error (nothing was started), 130 interrupted`;

const FLAGS = {
    stack: { type: "string" },
    "stack-outputs": { type: "string" },
    tasks: numericFlag(4, { min: 1, max: MAX_TASKS, integer: true, unit: "tasks" }),
    connections: numericFlag(0, { min: 1, max: 1_000_000 * MAX_TASKS, integer: true, unit: "connections" }),
    rate: numericFlag(0, { min: 0.01, max: 100_000 * MAX_TASKS, unit: "connections per second" }),
    hold: numericFlag(60, { min: 0, max: 86_400, unit: "seconds" }),
    url: { type: "string" },
    "start-delay": numericFlag(60, { min: 0, max: 3600, unit: "seconds" }),
    threshold: { type: "string", multiple: true },
    json: { type: "boolean", short: "j" },
    report: { type: "string" },
    "report-html": { type: "string" },
    "api-timeout": numericFlag(60, { min: 1, max: 600, unit: "seconds" }),
    poll: numericFlag(5, { min: 0.1, max: 60, unit: "seconds" }),
    help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

/** A numeric flag's value, its default when absent; outside its bounds a FlagError. */
const numberOf = numericFlagReader(FLAGS);

export interface LoadPlan {
    readonly stack: string;
    readonly tasks: number;
    readonly connections: number;
    readonly rate: number;
    readonly holdSec: number;
    readonly startDelaySec: number;
    readonly url?: string;
    readonly thresholds: readonly string[];
    readonly apiTimeoutSec: number;
    readonly pollSec: number;
}

function checkUrl(url: string | undefined): string | undefined {
    if (url !== undefined && !/^wss?:\/\/[^/\s]+(\/\S*)?$/.test(url)) {
        throw new FlagError(
            `--url ${JSON.stringify(url)}: expected a ws:// or wss:// URL such as wss://chat.example.com/ws`,
        );
    }
    return url;
}

/** Every flag, checked before anything else. */
export function planLoad(values: Values): LoadPlan {
    for (const name of Object.keys(FLAGS)) {
        if ("bounds" in FLAGS[name as keyof typeof FLAGS]) {
            numberOf(values, name as NumericFlagName<typeof FLAGS>);
        }
    }
    const stack = values.stack;
    if (stack === undefined || !/^[A-Za-z0-9_.-]{1,100}$/.test(stack)) {
        throw new FlagError(
            stack === undefined
                ? "--stack is required: the stack whose load job runs, such as staging"
                : `--stack ${JSON.stringify(stack)}: expected a stack name (letters, digits, _ . -)`,
        );
    }
    const tasks = numberOf(values, "tasks");
    if (values.connections === undefined) {
        throw new FlagError("--connections is required: the connections in all, shared out over the tasks");
    }
    const connections = numberOf(values, "connections");
    if (connections < tasks || connections > tasks * 1_000_000) {
        throw new FlagError(
            `--connections ${connections}: with --tasks ${tasks}, give ${tasks} to ${tasks * 1_000_000} (each task opens 1 to 1000000)`,
        );
    }
    const rate = values.rate === undefined ? 500 * tasks : numberOf(values, "rate");
    if (rate / tasks > 100_000) {
        throw new FlagError(`--rate ${rate}: over 100000 per task with --tasks ${tasks}`);
    }
    const thresholds = values.threshold ?? [];
    thresholdsFrom(thresholds);
    for (const flag of ["report", "report-html"] as const) {
        if (values[flag] !== undefined) {
            checkOutputPath(flag, values[flag]);
        }
    }
    if (values.report !== undefined && values.report === values["report-html"]) {
        throw new FlagError(`--report and --report-html are both ${values.report}: give each its own file`);
    }
    return {
        stack,
        tasks,
        connections,
        rate,
        holdSec: numberOf(values, "hold"),
        startDelaySec: numberOf(values, "start-delay"),
        url: checkUrl(values.url),
        thresholds,
        apiTimeoutSec: numberOf(values, "api-timeout"),
        pollSec: numberOf(values, "poll"),
    };
}

/** The execution's limit: the wait, the opening at the slowest task's rate, the hold, and a margin for the endpoint probe and the upload. */
export function executionTimeoutSec(plan: LoadPlan): number {
    const perTask = Math.ceil(plan.connections / plan.tasks);
    return Math.ceil(plan.startDelaySec + perTask / (plan.rate / plan.tasks) + 2 * plan.holdSec + 600);
}

function runEnv(plan: LoadPlan, runId: string): Record<string, string> {
    return {
        [TASK_ENV.runId]: runId,
        [TASK_ENV.connections]: String(plan.connections),
        [TASK_ENV.rate]: String(plan.rate),
        [TASK_ENV.holdSec]: String(plan.holdSec),
        [TASK_ENV.startAt]: new Date(Date.now() + plan.startDelaySec * 1000).toISOString(),
        ...(plan.url ? { [TASK_ENV.url]: plan.url } : {}),
    };
}

/** Runs the execution to its end, with a progress line; Ctrl-C cancels it. */
async function execute(api: RunApi, plan: LoadPlan, target: LoadTestOutputs, runId: string, io: CliIo) {
    const say = (line: string) => (io.status ? io.status(line) : io.err(line));
    let last = "";
    const following = await runJob(
        api,
        { job: target.job, taskCount: plan.tasks, env: runEnv(plan, runId), timeoutSec: executionTimeoutSec(plan) },
        {
            timeoutSec: plan.apiTimeoutSec,
            pollSec: plan.pollSec,
            signal: io.signal,
            onProgress: (e) => {
                const line = `execution ${e.name ?? ""}: ${progressText(e)}`;
                if (line !== last) {
                    last = line;
                    say(line);
                }
            },
        },
    );
    io.err(
        `started ${following.execution} (run ${runId}): ${plan.tasks} tasks, shards to gs://${target.bucket}/runs/${runId}/`,
    );
    // The execution ends by its own timeout; this bounds a server that keeps saying "running".
    const deadline = (executionTimeoutSec(plan) + 300) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(new ApiTimeoutError(`the execution did not end within ${deadline / 1000} s`)),
            deadline,
        );
    });
    try {
        const result = await Promise.race([
            following.done,
            whenAborted(io.signal).then(() => Promise.reject(new InterruptedError("interrupted"))),
            overdue,
        ]);
        // The last progress line stays standing on a terminal, as the validator's phases do.
        io.status?.(last, true);
        return { execution: following.execution, result };
    } catch (e) {
        io.status?.(last, true);
        if (e instanceof InterruptedError || e instanceof ApiTimeoutError) {
            following.done.catch(() => undefined);
            const cancelled = await cancelExecution(api, following.execution, plan.apiTimeoutSec);
            throw e instanceof InterruptedError
                ? new InterruptedError(`interrupted: ${cancelled}`)
                : new Error(`${errorText(e)}; ${cancelled}`);
        }
        throw e;
    } finally {
        clearTimeout(timer);
    }
}

async function runLoad(plan: LoadPlan, values: Values, io: CliIo): Promise<number> {
    const target = await readLoadTestOutputs(plan.stack, values["stack-outputs"]);
    const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "").toLowerCase()}-${randomBytes(3).toString("hex")}`;
    const api = openRunApi(io.env, target.project);
    try {
        const { execution, result } = await execute(api, plan, target, runId, io);
        const judged = await judgeShards({
            io,
            target,
            runId,
            tasks: plan.tasks,
            thresholds: plan.thresholds,
            apiTimeoutSec: plan.apiTimeoutSec,
        });
        io.out(values.json ? reportJson(judged.report) : renderReport(judged.report));
        io.err(`execution ${execution}: ${progressText(result)}; ${judged.summary}`);
        for (const failure of judged.writeFailures(values)) {
            io.err(`error: ${failure}`);
        }
        return judged.report.exitCode;
    } finally {
        await api.close();
    }
}

export async function main(argv: string[], io: CliIo): Promise<number> {
    try {
        const { values } = parseFlags(argv, FLAGS);
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        const plan = planLoad(values);
        checkCredentials(io.env);
        return await runLoad(plan, values, io);
    } catch (e) {
        if (e instanceof InterruptedError && e.message.startsWith("interrupted: ")) {
            // The execution had started: the message says what became of it.
            io.err(e.message);
            return EXIT.interrupted;
        }
        if (e instanceof InterruptedError || e instanceof FlagError || e instanceof UsageError) {
            return reportError(io, e, { usage: USAGE });
        }
        io.err(`error: ${errorText(e)}`);
        return EXIT.failed;
    }
}

if (require.main === module) {
    runMain(main);
}
