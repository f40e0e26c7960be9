import { ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as protobuf from "protobufjs";

// The Cloud Run Admin API (v2) as a local gRPC server, built from the protos @google-cloud/run
// ships, for the real JobsClient and ExecutionsClient: RunJob starts every task as a real process
// (what the container would run) and answers with a long-running operation whose metadata is the
// Execution, as job.proto declares (`operation_info { response_type: "Execution" metadata_type:
// "Execution" }`); GetOperation follows it; CancelExecution stops the tasks. Only what the load job
// uses is served; the rest answers UNIMPLEMENTED, as grpc-js does for a method with no handler.

const RUN_PROTOS = path.resolve(path.dirname(require.resolve("@google-cloud/run")), "..", "protos");
const GAX_PROTOS = path.resolve(path.dirname(require.resolve("google-gax")), "..", "protos");
const EXECUTION_TYPE = "google.cloud.run.v2.Execution";

export interface LocalJob {
    /** projects/P/locations/L/jobs/J */
    readonly name: string;
    /** The template's environment (infra/load-test.ts sets LOAD_BUCKET and LOAD_TARGET_URL). */
    readonly env: Readonly<Record<string, string>>;
    readonly taskCount: number;
}

/** One task to start: Cloud Run's own variables are in `env` already. */
export interface TaskStart {
    readonly index: number;
    readonly count: number;
    readonly env: Readonly<Record<string, string>>;
}

interface TaskRecord {
    readonly index: number;
    readonly child: ChildProcess;
    output: string;
    exitCode?: number | null;
    signal?: NodeJS.Signals | null;
}

interface ExecutionRecord {
    readonly name: string;
    readonly uid: string;
    readonly job: string;
    readonly operation: string;
    readonly taskCount: number;
    readonly overrides: Readonly<Record<string, string>>;
    readonly tasks: TaskRecord[];
    readonly createTime: Date;
    completionTime?: Date;
    cancelled: boolean;
}

type Msg = Record<string, unknown>;

function timestamp(d: Date | undefined): Msg | undefined {
    return d ? { seconds: Math.floor(d.getTime() / 1000), nanos: (d.getTime() % 1000) * 1e6 } : undefined;
}

function executionMessage(e: ExecutionRecord): Msg {
    const ended = e.tasks.filter((t) => t.exitCode !== undefined);
    const cancelled = e.cancelled ? ended.filter((t) => t.exitCode !== 0).length : 0;
    return {
        name: e.name,
        uid: e.uid,
        job: e.job.split("/").pop(),
        createTime: timestamp(e.createTime),
        startTime: timestamp(e.createTime),
        completionTime: timestamp(e.completionTime),
        taskCount: e.taskCount,
        parallelism: e.taskCount,
        runningCount: e.tasks.length - ended.length,
        succeededCount: ended.filter((t) => t.exitCode === 0).length,
        failedCount: ended.filter((t) => t.exitCode !== 0).length - cancelled,
        cancelledCount: cancelled,
    };
}

export interface CloudRunServer {
    readonly port: number;
    readonly host: string;
    readonly executions: ExecutionRecord[];
    stop(): Promise<void>;
}

export async function startCloudRunServer(options: {
    jobs: readonly LocalJob[];
    start: (task: TaskStart) => ChildProcess;
}): Promise<CloudRunServer> {
    const loaderOptions = {
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
        includeDirs: [RUN_PROTOS, GAX_PROTOS],
    };
    const definition = protoLoader.loadSync(
        ["google/cloud/run/v2/job.proto", "google/cloud/run/v2/execution.proto", "google/longrunning/operations.proto"],
        loaderOptions,
    );
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
        google: {
            cloud: {
                run: {
                    v2: { Jobs: { service: grpc.ServiceDefinition }; Executions: { service: grpc.ServiceDefinition } };
                };
            };
            longrunning: { Operations: { service: grpc.ServiceDefinition } };
        };
    };
    // The Any payloads are encoded with the same protos, by protobufjs.
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
        [RUN_PROTOS, GAX_PROTOS].map((d) => path.join(d, target)).find((f) => fs.existsSync(f)) ?? target;
    root.loadSync("google/cloud/run/v2/execution.proto");
    const executionType = root.lookupType(EXECUTION_TYPE);
    const pack = (e: ExecutionRecord) => ({
        typeUrl: `type.googleapis.com/${EXECUTION_TYPE}`,
        value: Buffer.from(executionType.encode(executionType.fromObject(executionMessage(e))).finish()),
    });
    const operationOf = (e: ExecutionRecord) => ({
        name: e.operation,
        metadata: pack(e),
        done: e.completionTime !== undefined,
        ...(e.completionTime ? { response: pack(e) } : {}),
    });

    const executions: ExecutionRecord[] = [];
    const server = new grpc.Server();
    const notFound = (what: string, name: string) => ({
        code: grpc.status.NOT_FOUND,
        details: `${what} ${name} was not found`,
    });

    server.addService(loaded.google.cloud.run.v2.Jobs.service, {
        runJob: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
            const request = call.request as {
                name: string;
                overrides?: {
                    taskCount?: number;
                    containerOverrides?: Array<{ env?: Array<{ name: string; value: string }> }>;
                    timeout?: { seconds?: string };
                };
            };
            const job = options.jobs.find((j) => j.name === request.name);
            if (!job) {
                callback(notFound("Job", request.name));
                return;
            }
            const execution = startExecution(job, request.overrides ?? {}, options.start);
            executions.push(execution);
            callback(null, operationOf(execution));
        },
    });
    server.addService(loaded.google.cloud.run.v2.Executions.service, {
        getExecution: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
            const e = executions.find((x) => x.name === call.request.name);
            callback(e ? null : notFound("Execution", String(call.request.name)), e ? executionMessage(e) : undefined);
        },
        cancelExecution: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
            const e = executions.find((x) => x.name === call.request.name);
            if (!e) {
                callback(notFound("Execution", String(call.request.name)));
                return;
            }
            e.cancelled = true;
            for (const t of e.tasks) {
                if (t.exitCode === undefined) {
                    t.child.kill("SIGTERM");
                }
            }
            callback(null, operationOf(e));
        },
    });
    server.addService(loaded.google.longrunning.Operations.service, {
        getOperation: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
            const e = executions.find((x) => x.operation === call.request.name);
            callback(e ? null : notFound("Operation", String(call.request.name)), e ? operationOf(e) : undefined);
        },
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) =>
            err ? reject(err) : resolve(bound),
        ),
    );
    return {
        port,
        host: `127.0.0.1:${port}`,
        executions,
        stop: async () => {
            for (const e of executions) {
                for (const t of e.tasks) {
                    if (t.exitCode === undefined) {
                        t.child.kill("SIGKILL");
                    }
                }
            }
            await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        },
    };
}

function startExecution(
    job: LocalJob,
    overrides: {
        taskCount?: number;
        containerOverrides?: Array<{ env?: Array<{ name: string; value: string }> }>;
        timeout?: { seconds?: string };
    },
    start: (task: TaskStart) => ChildProcess,
): ExecutionRecord {
    const id = `${job.name.split("/").pop()}-${randomBytes(3).toString("hex")}`;
    const [, project, , location] = job.name.split("/");
    const count = overrides.taskCount || job.taskCount;
    const env = Object.fromEntries((overrides.containerOverrides?.[0]?.env ?? []).map((v) => [v.name, v.value]));
    const execution: ExecutionRecord = {
        name: `${job.name}/executions/${id}`,
        uid: randomBytes(8).toString("hex"),
        job: job.name,
        operation: `projects/${project}/locations/${location}/operations/${randomBytes(8).toString("hex")}`,
        taskCount: count,
        overrides: env,
        tasks: [],
        createTime: new Date(),
        cancelled: false,
    };
    const timeoutSec = Number(overrides.timeout?.seconds ?? 0);
    for (let index = 0; index < count; index++) {
        // The variables Cloud Run sets in every task: https://cloud.google.com/run/docs/container-contract#jobs-env-vars
        const child = start({
            index,
            count,
            env: {
                ...job.env,
                ...env,
                CLOUD_RUN_JOB: job.name.split("/").pop()!,
                CLOUD_RUN_EXECUTION: id,
                CLOUD_RUN_TASK_INDEX: String(index),
                CLOUD_RUN_TASK_COUNT: String(count),
                CLOUD_RUN_TASK_ATTEMPT: "0",
            },
        });
        const task: TaskRecord = { index, child, output: "" };
        child.stdout?.on("data", (c: Buffer) => (task.output += c.toString()));
        child.stderr?.on("data", (c: Buffer) => (task.output += c.toString()));
        const timer = timeoutSec > 0 ? setTimeout(() => child.kill("SIGTERM"), timeoutSec * 1000) : undefined;
        child.on("exit", (code, signal) => {
            clearTimeout(timer);
            task.exitCode = code;
            task.signal = signal;
            if (execution.tasks.every((t) => t.exitCode !== undefined)) {
                execution.completionTime = new Date();
            }
        });
        execution.tasks.push(task);
    }
    return execution;
}
