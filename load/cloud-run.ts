// The load job on Cloud Run, through @google-cloud/run's clients: one RunJob with this run's
// overrides, the execution followed through its long-running operation, and CancelExecution when
// the run is interrupted. Pointed at CLOUD_RUN_EMULATOR_HOST when it is set (the tests' local
// Cloud Run Admin API server; the name follows STORAGE_EMULATOR_HOST's, inferred: Google ships no
// Cloud Run emulator), else at run.googleapis.com with the Application Default Credentials.
import { ExecutionsClient, JobsClient, protos } from "@google-cloud/run";
import { CallOptions, grpc } from "google-gax";
import { errorText, sleep } from "../cli/kit";

type Execution = protos.google.cloud.run.v2.IExecution;
type EnvVar = protos.google.cloud.run.v2.IEnvVar;

export interface RunApi {
    readonly jobs: JobsClient;
    readonly executions: ExecutionsClient;
    /** Where the calls go, for messages. */
    readonly where: string;
    close(): Promise<void>;
}

/** `host:port` of a local server, or undefined for Google's. */
export function emulatorHost(env: NodeJS.ProcessEnv): { host: string; port: number } | undefined {
    const value = env.CLOUD_RUN_EMULATOR_HOST;
    if (!value) {
        return undefined;
    }
    const m = /^([^:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
        throw new Error(`CLOUD_RUN_EMULATOR_HOST=${JSON.stringify(value)}: expected host:port`);
    }
    return { host: m[1], port: Number(m[2]) };
}

export function openRunApi(env: NodeJS.ProcessEnv, project: string): RunApi {
    const local = emulatorHost(env);
    // A local server speaks plain gRPC; universeDomain given, so the auth library does not go
    // looking for a metadata server.
    const options = local
        ? {
              apiEndpoint: local.host,
              port: local.port,
              sslCreds: grpc.credentials.createInsecure(),
              projectId: project,
              universeDomain: "googleapis.com",
          }
        : { projectId: project };
    const jobs = new JobsClient(options);
    const executions = new ExecutionsClient(options);
    return {
        jobs,
        executions,
        where: local ? `the Cloud Run Admin API at ${local.host}:${local.port}` : "the Cloud Run Admin API",
        close: async () => {
            await Promise.allSettled([jobs.close(), executions.close()]);
        },
    };
}

export interface JobRun {
    /** The job's full name: projects/P/locations/L/jobs/J. */
    readonly job: string;
    readonly taskCount: number;
    readonly env: Readonly<Record<string, string>>;
    /** The execution's own limit, after which Cloud Run stops its tasks. */
    readonly timeoutSec: number;
}

/** A call that does not answer within `timeoutSec` fails with a message naming it. */
export class ApiTimeoutError extends Error {}

function callOptions(timeoutSec: number): CallOptions {
    // RunJob and CancelExecution are not retried (jobs_client_config.json: retry_codes_name
    // "non_idempotent", no codes), so RunJob is never sent twice: two loads would start.
    return { timeout: timeoutSec * 1000 };
}

function named(api: RunApi, call: string, timeoutSec: number, e: unknown): Error {
    const code = (e as { code?: number }).code;
    if (code === grpc.status.DEADLINE_EXCEEDED) {
        return new ApiTimeoutError(`${api.where} did not answer ${call} within ${timeoutSec} s`);
    }
    return new Error(`${api.where}: ${call} failed: ${errorText(e).split("\n")[0]}`, { cause: e });
}

export interface Following {
    /** The execution's name, known once RunJob answered. */
    readonly execution: string;
    /** Resolves with the finished execution; each poll's state goes to `onProgress`. */
    readonly done: Promise<Execution>;
}

/** Starts one execution of the job with this run's task count, environment and timeout. */
export async function runJob(
    api: RunApi,
    run: JobRun,
    options: { timeoutSec: number; pollSec: number; signal?: AbortSignal; onProgress: (e: Execution) => void },
): Promise<Following> {
    const env: EnvVar[] = Object.entries(run.env).map(([name, value]) => ({ name, value }));
    let operation;
    try {
        [operation] = await api.jobs.runJob(
            {
                name: run.job,
                overrides: {
                    taskCount: run.taskCount,
                    containerOverrides: [{ env }],
                    timeout: { seconds: run.timeoutSec },
                },
            },
            callOptions(options.timeoutSec),
        );
    } catch (e) {
        throw named(api, "RunJob", options.timeoutSec, e);
    }
    const started = operation.metadata as Execution | null;
    const execution = started?.name ?? "";
    const done = (async () => {
        for (;;) {
            let result: Execution | null;
            let metadata: Execution | null;
            try {
                [result, metadata] = (await operation.getOperation()) as [Execution | null, Execution | null];
            } catch (e) {
                throw named(api, `GetOperation ${operation.name ?? ""}`, options.timeoutSec, e);
            }
            if (metadata) {
                options.onProgress(metadata);
            }
            if (operation.done || result) {
                return result ?? metadata ?? {};
            }
            await sleep(options.pollSec * 1000, options.signal);
        }
    })();
    return { execution, done };
}

/** Asks Cloud Run to stop an execution's tasks; the answer, or what went wrong, in one line. */
export async function cancelExecution(api: RunApi, execution: string, timeoutSec: number): Promise<string> {
    try {
        await api.executions.cancelExecution({ name: execution }, callOptions(timeoutSec));
        return `asked ${api.where} to cancel ${execution}; it stops the tasks`;
    } catch (e) {
        return `could not cancel ${execution} (${errorText(named(api, "CancelExecution", timeoutSec, e))}); cancel it with gcloud run jobs executions cancel`;
    }
}

/** "3 running, 1 succeeded, 0 failed of 4 tasks". */
export function progressText(e: Execution): string {
    return `${e.runningCount ?? 0} running, ${e.succeededCount ?? 0} succeeded, ${e.failedCount ?? 0} failed${e.cancelledCount ? `, ${e.cancelledCount} cancelled` : ""} of ${e.taskCount ?? "?"} tasks`;
}
