// The distributed load on one host: `npm run load` end to end against the local Cloud Run Admin API
// server and fake-gcs-server of the tests (test/load/), each task a real process of load/task.ts
// with its own loopback source address, against the echo server run as a cluster of processes.
// Prints the merged result and each task's peak memory (VmHWM, the kernel's high-water mark).
//
//   npm run bench:load-job                                  # 100,000 as 6 tasks of 16,667
//   TASKS=4 CONNECTIONS=20000 HOLD=10 npm run bench:load-job
//
// One process holds at most its open-file limit of sockets, and this container's hard limit is
// 20,000, which only CAP_SYS_RESOURCE could raise: so every task's share, and every echo worker's,
// stays under it. Each task's source address has its own ~28,000 ephemeral ports to the target.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REGISTER, ROOT } from "../test/helpers/cli";
import { buildFakeGcs } from "../test/load/fake-gcs";
import { startLocalLoadJob } from "../test/load/local-job";

const TASKS = Number(process.env.TASKS ?? 6);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 100_000);
const RATE = Number(process.env.RATE ?? 3_000);
const HOLD_SEC = Number(process.env.HOLD ?? 60);
const ECHO_WORKERS = Number(process.env.ECHO_WORKERS ?? Math.max(2, Math.ceil(CONNECTIONS / 15_000)));
/** Sockets a process may hold besides its other descriptors (modules, pipes, the event loop). */
const FD_MARGIN = 500;

function hardOpenFileLimit(): number {
    const text = execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim();
    return text === "unlimited" ? Infinity : Number(text);
}

function portRange(): number {
    const [low, high] = fs
        .readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
        .trim()
        .split(/\s+/)
        .map(Number);
    return high - low + 1;
}

function checkShares(): void {
    const limit = hardOpenFileLimit();
    const share = Math.ceil(CONNECTIONS / TASKS);
    const perWorker = Math.ceil((CONNECTIONS * 1.05) / ECHO_WORKERS);
    if (share > limit - FD_MARGIN || perWorker > limit - FD_MARGIN) {
        throw new Error(
            `open files: a task would hold ${share} sockets and an echo worker about ${perWorker}, over this host's hard limit of ${limit} less ${FD_MARGIN}; raise TASKS or ECHO_WORKERS`,
        );
    }
    if (share > portRange()) {
        throw new Error(
            `ports: a task's ${share} connections from one source address exceed the ${portRange()} ephemeral ports`,
        );
    }
}

/** The kernel's peak resident memory of a process, in bytes (0 once it is gone). */
function peakRss(pid: number): number {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
        return 0;
    }
}

function descendants(pid: number): number[] {
    const out: number[] = [];
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
                out.push(Number(entry), ...descendants(Number(entry)));
            }
        } catch {
            // Gone while we looked.
        }
    }
    return out;
}

function startEchoCluster(): Promise<{ port: number; child: ChildProcess }> {
    const child = spawn(
        process.execPath,
        ["-r", REGISTER, path.join(ROOT, "bench", "echo-cluster.ts"), String(ECHO_WORKERS)],
        {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        },
    );
    return new Promise((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`the echo cluster exited (${code}) before it listened`)));
        child.stdout.once("data", (c: Buffer) => resolve({ port: Number(c.toString().trim()), child }));
    });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function main(): Promise<void> {
    checkShares();
    if (!buildFakeGcs().ok) {
        throw new Error("fake-gcs-server could not be built (scripts/fake-gcs-server.sh)");
    }
    const echo = await startEchoCluster();
    const job = await startLocalLoadJob({ targetUrl: `ws://127.0.0.1:${echo.port}/ws`, firstAddress: 10 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-load-job-"));
    const report = path.join(dir, "report.json");
    const share = Math.ceil(CONNECTIONS / TASKS);
    console.log(
        `load job: ${CONNECTIONS} connections as ${TASKS} tasks of ${share} at ${RATE}/s in all, held ${HOLD_SEC} s, each task from its own 127.0.0.N, echo server ${ECHO_WORKERS} workers; ${os.cpus().length}x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, open-file hard limit ${hardOpenFileLimit()}`,
    );
    const peaks = new Map<number, number>();
    let echoPeak = 0;
    const sampler = setInterval(() => {
        for (const t of job.run.executions[0]?.tasks ?? []) {
            peaks.set(t.index, Math.max(peaks.get(t.index) ?? 0, peakRss(t.child.pid!)));
        }
        echoPeak = Math.max(
            echoPeak,
            descendants(echo.child.pid!).reduce((n, p) => n + peakRss(p), peakRss(echo.child.pid!)),
        );
    }, 500);
    const started = Date.now();
    try {
        const cli = spawn(
            process.execPath,
            [
                "-r",
                REGISTER,
                path.join(ROOT, "load", "cli.ts"),
                "--stack",
                "bench",
                "--stack-outputs",
                job.outputsFile,
                "--tasks",
                String(TASKS),
                "--connections",
                String(CONNECTIONS),
                "--rate",
                String(RATE),
                "--hold",
                String(HOLD_SEC),
                "--start-delay",
                "5",
                "--poll",
                "2",
                "--report",
                report,
            ],
            { cwd: ROOT, env: { ...process.env, ...job.env }, stdio: ["ignore", "pipe", "inherit"] },
        );
        let stdout = "";
        cli.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        const code = await new Promise<number | null>((resolve) => cli.on("close", resolve));
        clearInterval(sampler);
        console.log(stdout.trim());
        console.log(`npm run load exited ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
        console.log("| task | share | opened and held | peak memory |");
        console.log("| --- | --- | --- | --- |");
        let held = 0;
        for (const t of job.run.executions[0]?.tasks ?? []) {
            const n = Math.floor(CONNECTIONS / TASKS) + (t.index < CONNECTIONS % TASKS ? 1 : 0);
            // The task's own report, in its output: "load: OPENED/ASKED opened ..., HELD held".
            const load = /load: (\d+)\/\d+ opened .*?, (\d+) held/.exec(t.output);
            held += load ? Number(load[2]) : 0;
            console.log(
                `| ${t.index} | ${n} | ${load ? `${load[1]}, ${load[2]}` : "?"} | ${mb(peaks.get(t.index) ?? 0)} |`,
            );
            if (t.exitCode !== 0) {
                console.log(`task ${t.index} exited ${t.exitCode}: ${t.output.slice(-1500)}`);
            }
        }
        const total = [...peaks.values()].reduce((a, b) => a + b, 0);
        // Per connection held, not per connection asked for: a run that opened half would otherwise read half the cost.
        const perHeld = held > 0 ? `${(total / held / 1024).toFixed(1)} KB per connection held` : "no connection held";
        console.log(`tasks' peak memory in all: ${mb(total)} (${perHeld}); echo cluster: ${mb(echoPeak)}`);
        if (fs.existsSync(report)) {
            const r = JSON.parse(fs.readFileSync(report, "utf8")) as {
                metrics: Record<string, number>;
                verdict: string;
            };
            console.log(`merged: verdict ${r.verdict}, metrics ${JSON.stringify(r.metrics)}`);
        }
    } finally {
        clearInterval(sampler);
        await job.stop();
        echo.child.kill("SIGTERM");
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
