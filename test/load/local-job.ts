import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REGISTER, ROOT } from "../helpers/cli";
import { startCloudRunServer, CloudRunServer, TaskStart } from "./cloud-run-server";
import { startFakeGcs, FakeGcs } from "./fake-gcs";

// The load job with nothing of Google's: the local Cloud Run Admin API server starting each task
// as a process of load/task.ts (the container's entry point), fake-gcs-server as the bucket, and
// the stack outputs file `npm run load` reads, for the tests and bench/load-job.ts.

const JOB = "projects/chat-staging/locations/us-central1/jobs/chat-load";
export const BUCKET = "chat-staging-load-shards";

export interface LocalLoadJob {
    readonly run: CloudRunServer;
    readonly gcs: FakeGcs;
    /** `--stack-outputs` for npm run load. */
    readonly outputsFile: string;
    /** What npm run load needs to reach the local servers. */
    readonly env: Record<string, string>;
    stop(): Promise<void>;
}

/** The task process: load/task.ts as the container runs it, its source address 127.0.0.(firstAddress + index). */
function startTask(
    task: TaskStart,
    gcsUrl: string,
    firstAddress: number,
    extraEnv: Record<string, string>,
): ChildProcess {
    return spawn(process.execPath, ["-r", REGISTER, path.join(ROOT, "load", "task.ts")], {
        cwd: ROOT,
        env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...task.env,
            STORAGE_EMULATOR_HOST: gcsUrl,
            LOAD_LOCAL_ADDRESS: `127.0.0.${firstAddress + task.index}`,
            ...extraEnv,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
}

export async function startLocalLoadJob(options: {
    targetUrl: string;
    /** The source address of task 0 is 127.0.0.<firstAddress>. */
    firstAddress?: number;
    /** Replaces how a task starts (a task that fails, in a test). */
    start?: (task: TaskStart, defaultStart: (t: TaskStart) => ChildProcess) => ChildProcess;
    taskEnv?: Record<string, string>;
}): Promise<LocalLoadJob> {
    const gcs = await startFakeGcs([BUCKET]);
    const defaultStart = (t: TaskStart) => startTask(t, gcs.url, options.firstAddress ?? 10, options.taskEnv ?? {});
    let run: CloudRunServer;
    try {
        run = await startCloudRunServer({
            jobs: [{ name: JOB, taskCount: 1, env: { LOAD_BUCKET: BUCKET, LOAD_TARGET_URL: options.targetUrl } }],
            start: (t) => (options.start ? options.start(t, defaultStart) : defaultStart(t)),
        });
    } catch (e) {
        gcs.stop();
        throw e;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "load-job-"));
    const outputsFile = path.join(dir, "outputs.json");
    const [, project, , region] = JOB.split("/");
    fs.writeFileSync(outputsFile, JSON.stringify({ loadTest: { project, region, job: JOB, bucket: BUCKET } }));
    return {
        run,
        gcs,
        outputsFile,
        env: { CLOUD_RUN_EMULATOR_HOST: run.host, STORAGE_EMULATOR_HOST: gcs.url },
        stop: async () => {
            await run.stop();
            gcs.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
