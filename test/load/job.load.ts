import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { WebSocketServer } from "ws";
import { openBucket, readShards } from "../../load/storage";
import { startEchoServer, EchoServer } from "../../validator";
import { COUNTERS, mergeTallies, metricsOfTally, parseShard, Tally } from "../../validator/report";
import { eventually, REGISTER, ROOT, runTs } from "../helpers/cli";
import { FAKE_GCS_BINARY } from "./fake-gcs";
import { BUCKET, LocalLoadJob, startLocalLoadJob } from "./local-job";

// `npm run load` end to end with nothing of Google's: the real JobsClient and ExecutionsClient
// against the local Cloud Run Admin API server, whose tasks are real processes of load/task.ts (the
// container's entry point), each with its own loopback source address; the real
// @google-cloud/storage against fake-gcs-server built from its Go module; the project's echo
// server as the target.

const LOAD = "load/cli.ts";

function loadArgs(job: LocalLoadJob, extra: string[]): string[] {
    return ["--stack", "staging", "--stack-outputs", job.outputsFile, "--poll", "0.2", "--start-delay", "1", ...extra];
}

describe("npm run load: the load job end to end on local Cloud Run and Cloud Storage servers", function () {
    this.timeout(120_000);
    let echo: EchoServer;
    let job: LocalLoadJob | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "load-test-"));

    before(async function () {
        if (!fs.existsSync(FAKE_GCS_BINARY)) {
            console.error(
                `\n  !!! skipped: ${FAKE_GCS_BINARY} is missing (scripts/fake-gcs-server.sh could not build it)\n`,
            );
            this.skip();
        }
        echo = await startEchoServer();
    });
    afterEach(async () => {
        await job?.stop();
        job = undefined;
    });
    after(async () => {
        await echo?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs 3 tasks x 20 connections, and the merged report is the sum of the shards in the bucket", async () => {
        job = await startLocalLoadJob({ targetUrl: `${echo.url}/ws` });
        const report = path.join(dir, "report.json");
        const result = await runTs(
            LOAD,
            loadArgs(job, ["--tasks", "3", "--connections", "60", "--hold", "1", "--report", report]),
            {
                env: job.env,
                timeoutMs: 90_000,
            },
        );
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stderr, /0 running, 3 succeeded, 0 failed of 3 tasks; 3 of 3 tasks wrote a shard/);
        assert.match(result.stdout, /merged from 3 shards/);
        assert.match(result.stdout, /verdict: PASS/);

        const [execution] = job.run.executions;
        assert.equal(execution.taskCount, 3);
        assert.deepEqual(
            execution.tasks.map((t) => t.exitCode),
            [0, 0, 0],
        );
        // Every task got the same start time and run, and took its own share.
        assert.equal(new Set(execution.tasks.map((t) => /from (\S+)/.exec(t.output)?.[1])).size, 1);
        for (const t of execution.tasks) {
            assert.match(t.output, new RegExp(`task ${t.index} of 3: 20 connections`));
        }

        const runId = execution.overrides.LOAD_RUN_ID;
        const stored = await readShards(openBucket(job.env, BUCKET), runId);
        assert.equal(stored.length, 3);
        const tallies: Tally[] = stored.map((s) => parseShard(s.text).tally);
        const written = JSON.parse(fs.readFileSync(report, "utf8")) as {
            metrics: object;
            merged: { shards: string[] };
        };
        assert.deepEqual(
            written.merged.shards,
            stored.map((s) => s.object),
        );
        // The metrics judged are those of the shards' sum, read back from the bucket independently.
        assert.deepEqual(written.metrics, metricsOfTally(mergeTallies(tallies)));
        const sum = (c: (typeof COUNTERS)[number]) => tallies.reduce((n, t) => n + t.counters[c], 0);
        assert.match(
            result.stdout,
            new RegExp(
                `handshakes ${sum("handshakesOpened")}/${sum("handshakesAttempted")} opened, ${sum("connectionsStayedUp")} stayed up`,
            ),
        );
        // 20 load connections and the endpoint probe's handshake per task.
        for (const t of tallies) {
            assert.ok(t.counters.handshakesOpened >= 20, JSON.stringify(t.counters));
        }
    });

    it("fails the run when a task writes no shard, and each task opens from its own source address", async () => {
        const sources = new Set<string>();
        const recording = new WebSocketServer({ host: "127.0.0.1", port: 0 });
        recording.on("connection", (ws, req) => {
            sources.add(req.socket.remoteAddress ?? "?");
            ws.on("message", (data, binary) => ws.send(data, { binary }));
        });
        await new Promise((resolve) => recording.once("listening", resolve));
        const port = (recording.address() as net.AddressInfo).port;
        job = await startLocalLoadJob({
            targetUrl: `ws://127.0.0.1:${port}/ws`,
            firstAddress: 20,
            start: (task, start) =>
                task.index === 1
                    ? spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: ["ignore", "pipe", "pipe"] })
                    : start(task),
        });
        try {
            const result = await runTs(LOAD, loadArgs(job, ["--tasks", "3", "--connections", "30", "--hold", "0.5"]), {
                env: job.env,
                timeoutMs: 90_000,
            });
            assert.equal(result.code, 1, result.stdout + result.stderr);
            assert.match(result.stderr, /1 failed of 3 tasks; 2 of 3 tasks wrote a shard; task 1 wrote no shard/);
            assert.match(result.stdout, /merged from 2 shards/);
            assert.match(result.stdout, /verdict: FAIL/);
            // The load's connections come from each task's address; the endpoint probe's from the default.
            assert.deepEqual([...sources].sort(), ["127.0.0.1", "127.0.0.20", "127.0.0.22"]);
        } finally {
            await new Promise((resolve) => recording.close(resolve));
        }
    });

    it("cancels the execution on Ctrl-C to the process group, and says so (exit 130)", async () => {
        job = await startLocalLoadJob({ targetUrl: `${echo.url}/ws` });
        const child = spawn(
            process.execPath,
            [
                "-r",
                REGISTER,
                path.join(ROOT, LOAD),
                ...loadArgs(job, ["--tasks", "2", "--connections", "10", "--hold", "60"]),
            ],
            {
                cwd: ROOT,
                env: { ...process.env, ...job.env },
                stdio: ["ignore", "pipe", "pipe"],
                detached: true,
            },
        );
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.ok(await eventually(() => /2 running, 0 succeeded/.test(stderr), 60_000), stderr);
        process.kill(-child.pid!, "SIGINT");
        const code = await exited;
        assert.equal(code, 130, stderr);
        const [execution] = job.run.executions;
        assert.match(
            stderr,
            new RegExp(
                `interrupted: asked the Cloud Run Admin API at 127\\.0\\.0\\.1:\\d+ to cancel ${execution.name}`,
            ),
        );
        assert.equal(execution.cancelled, true);
        assert.ok(await eventually(() => execution.completionTime !== undefined, 30_000), "the tasks did not end");
    });

    it("ends with a true message when the Cloud Run API never answers", async () => {
        const sockets: net.Socket[] = [];
        const silent = net.createServer((s) => sockets.push(s));
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const outputs = path.join(dir, "outputs.json");
        fs.writeFileSync(
            outputs,
            JSON.stringify({
                loadTest: { project: "p", region: "r", job: "projects/p/locations/r/jobs/j", bucket: "b" },
            }),
        );
        try {
            const started = Date.now();
            const result = await runTs(
                LOAD,
                [
                    "--stack",
                    "staging",
                    "--stack-outputs",
                    outputs,
                    "--tasks",
                    "2",
                    "--connections",
                    "10",
                    "--api-timeout",
                    "2",
                ],
                {
                    env: {
                        CLOUD_RUN_EMULATOR_HOST: `127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
                        STORAGE_EMULATOR_HOST: "http://127.0.0.1:9",
                    },
                    timeoutMs: 60_000,
                },
            );
            assert.equal(result.code, 1, result.stderr);
            assert.match(
                result.stderr,
                /^error: the Cloud Run Admin API at 127\.0\.0\.1:\d+ did not answer RunJob within 2 s/m,
            );
            assert.ok(Date.now() - started < 45_000);
            assert.ok(sockets.length > 0, "the command never reached the server");
        } finally {
            sockets.forEach((s) => s.destroy());
            silent.close();
        }
    });
});
