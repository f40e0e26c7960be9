// 10,000 concurrent WebSocket connections from one process to a local echo server (in its own
// process): time to open all, handshake p50/p99, peak memory of the client's process tree. Then the
// same work with Artillery's WebSocket engine, if it is installed (ARTILLERY=path/to/artillery/bin),
// and the ratios. Loopback only.
//
// Past ~20,000 connections one source address runs short of ephemeral ports to the one target, so
// the validator spreads its connections over several loopback source addresses (--local-address,
// one per 20,000), and this process raises its own open-file limit with prlimit (its children, the
// echo server and the validator, inherit it) and says so.
//
//   npm run bench:load                                   # ws-validate only
//   CONNECTIONS=100000 RATE=3000 HOLD=60 npm run bench:load
//   ARTILLERY=/tmp/artillery/node_modules/.bin/artillery npm run bench:load
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEchoProcess } from "./echo-process";

const ROOT = path.resolve(__dirname, "..");
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10_000);
const RATE = Number(process.env.RATE ?? 2_000);
const HOLD_SEC = Number(process.env.HOLD ?? 10);
const ARTILLERY = process.env.ARTILLERY;
/** Source addresses for the load: 127.0.0.2 on, one per 20,000 connections, at least two. */
const SOURCES = Math.max(2, Math.ceil(CONNECTIONS / 20_000));
const LOCAL_ADDRESS = `127.0.0.2-127.0.0.${1 + SOURCES}`;

/** Raises this process's open-file limit to what the connections need (children inherit it); says what it did. */
function raiseOpenFiles(): void {
    const wanted = CONNECTIONS + 10_000;
    const [soft, hard] = execFileSync(
        "prlimit",
        ["--pid", String(process.pid), "--nofile", "--output", "SOFT,HARD", "--noheadings"],
        { encoding: "utf8" },
    )
        .trim()
        .split(/\s+/)
        .map((v) => (v === "unlimited" ? Infinity : Number(v)));
    if (soft >= wanted) {
        console.log(`open files: limit ${soft}, enough for ${CONNECTIONS} connections`);
        return;
    }
    // Node raises its soft limit to the hard one as it starts, so what is left to raise is the hard
    // limit, which takes CAP_SYS_RESOURCE.
    const limit = `${wanted}:${Math.max(wanted, hard) === Infinity ? "unlimited" : Math.max(wanted, hard)}`;
    try {
        execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${limit}`], { stdio: "pipe" });
        console.log(
            `open files: raised this process's limit from ${soft} to ${wanted} with prlimit (its children inherit it)`,
        );
    } catch (e) {
        throw new Error(
            `open files: ${CONNECTIONS} connections need a limit of about ${wanted}, this process has ${soft} (hard limit ${hard}) and prlimit could not raise it (${(e as Error).message.split("\n")[0]}); raising a hard limit takes CAP_SYS_RESOURCE (root outside a restricted container), or raise it where the shell starts (ulimit -Hn, limits.conf)`,
            { cause: e },
        );
    }
}

/** Resident memory of a process and its descendants, in bytes, from /proc. */
function treeRss(pid: number): number {
    let total = 0;
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // The process ended while we looked.
        }
    }
    const visit = (p: number) => {
        try {
            const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
            total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
        } catch {
            return;
        }
        (children.get(p) ?? []).forEach(visit);
    };
    visit(pid);
    return total;
}

function run(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string; code: number | null; peakRss: number; wallSec: number }> {
    return new Promise((resolve) => {
        const started = Date.now();
        const child: ChildProcess = spawn(command, args, {
            cwd: ROOT,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let peakRss = 0;
        child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, treeRss(child.pid!))), 100);
        child.on("close", (code) => {
            clearInterval(sampler);
            resolve({ stdout, stderr, code, peakRss, wallSec: (Date.now() - started) / 1000 });
        });
    });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function ours(port: number, connections = CONNECTIONS) {
    const result = await run(process.execPath, [
        "-r",
        "./cli/register.js",
        "validator/cli.ts",
        "--url",
        `ws://127.0.0.1:${port}`,
        "--endpoints",
        "/ws",
        "--connections",
        String(connections),
        "--rate",
        String(RATE),
        "--hold",
        String(HOLD_SEC),
        "--hold-mode",
        "idle",
        "--messages",
        "1",
        "--handshake-timeout",
        "30",
        "--local-address",
        LOCAL_ADDRESS,
        "--json",
    ]);
    const report = JSON.parse(result.stdout) as {
        load: {
            opened: number;
            survived: number;
            openSec: number;
            achievedRatePerSec: number;
            handshakeMs: { p50: number; p99: number };
        };
    };
    return { ...report.load, peakRss: result.peakRss };
}

async function artillery(port: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "artillery-"));
    const script = path.join(dir, "load.yml");
    const output = path.join(dir, "report.json");
    // Same work: CONNECTIONS connections arriving at RATE per second, each held HOLD_SEC seconds.
    fs.writeFileSync(
        script,
        [
            "config:",
            `  target: "ws://127.0.0.1:${port}/ws"`,
            "  phases:",
            `    - duration: ${Math.ceil(CONNECTIONS / RATE)}`,
            `      arrivalRate: ${RATE}`,
            "scenarios:",
            "  - engine: ws",
            "    flow:",
            `      - think: ${HOLD_SEC}`,
            "",
        ].join("\n"),
    );
    const result = await run(ARTILLERY!, ["run", "--output", output, script], { ARTILLERY_DISABLE_TELEMETRY: "true" });
    if (result.code !== 0) {
        throw new Error(`artillery exited ${result.code}: ${result.stderr.slice(-2000)}`);
    }
    const report = JSON.parse(fs.readFileSync(output, "utf8")) as {
        aggregate: {
            counters: Record<string, number>;
            summaries: Record<string, { p50: number; p99: number }>;
            firstCounterAt: number;
            lastCounterAt: number;
        };
        intermediate: Array<{ counters: Record<string, number>; period: number }>;
    };
    const counters = report.aggregate.counters;
    const created = counters["vusers.created"] ?? 0;
    const failed = counters["vusers.failed"] ?? 0;
    // Artillery counts per 10 s period; the time over which its connections were made is the
    // span of periods that created users.
    const creating = report.intermediate.filter((p) => (p.counters["vusers.created"] ?? 0) > 0);
    return {
        created,
        failed,
        completed: counters["vusers.completed"] ?? 0,
        counters,
        summaries: report.aggregate.summaries,
        creatingPeriods: creating.length,
        peakRss: result.peakRss,
        wallSec: result.wallSec,
    };
}

async function main() {
    raiseOpenFiles();
    const server = await startEchoProcess();
    try {
        console.log(
            `validator load: ${CONNECTIONS} connections at ${RATE}/s, held ${HOLD_SEC} s, from ${LOCAL_ADDRESS}, on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
        );
        // The same command with one connection: the process's own base, so what each connection
        // costs is what the load adds to it.
        const base = await ours(server.port, 1);
        const mine = await ours(server.port);
        const perConnection = (mine.peakRss - base.peakRss) / CONNECTIONS;
        console.log(
            "| tool | opened | held to the end | time to open all | achieved rate | handshake p50 | handshake p99 | peak memory |",
        );
        console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
        console.log(
            `| ws-validate | ${mine.opened} | ${mine.survived} | ${mine.openSec.toFixed(2)} s | ${mine.achievedRatePerSec.toFixed(0)}/s | ${mine.handshakeMs.p50.toFixed(1)} ms | ${mine.handshakeMs.p99.toFixed(1)} ms | ${mb(mine.peakRss)} |`,
        );
        const targets = [
            `all ${CONNECTIONS} held: ${mine.survived === CONNECTIONS ? "met" : "MISSED"}`,
            `peak memory under 600 MB: ${mine.peakRss < 600 * 2 ** 20 ? "met" : "MISSED"}`,
            `memory per connection at most 12 KB: ${perConnection <= 12 * 1024 ? "met" : "MISSED"} (${(perConnection / 1024).toFixed(1)} KB over the ${mb(base.peakRss)} of a one-connection run)`,
        ];
        if (ARTILLERY) {
            const theirs = await artillery(server.port);
            const session = theirs.summaries["websocket.session_length"];
            console.log(
                `| artillery | ${theirs.created - theirs.failed} | ${theirs.completed} | (paced by arrivalRate) | ${RATE}/s requested | - | - | ${mb(theirs.peakRss)} |`,
            );
            console.log(`artillery counters: ${JSON.stringify(theirs.counters)}`);
            if (session) {
                console.log(`artillery websocket.session_length p50 ${session.p50} ms, p99 ${session.p99} ms`);
            }
            console.log(`memory ratio ws-validate/artillery: ${(mine.peakRss / theirs.peakRss).toFixed(2)}`);
            targets.push(
                `connection rate at least Artillery's: ${mine.opened >= theirs.created - theirs.failed && mine.achievedRatePerSec >= RATE * 0.95 ? "met" : "MISSED"} (both asked for ${RATE}/s; ws-validate achieved ${mine.achievedRatePerSec.toFixed(0)}/s)`,
            );
        } else {
            targets.push("connection rate against Artillery: not measured (set ARTILLERY to its bin)");
        }
        console.log(`targets: ${targets.join("; ")}`);
    } finally {
        server.stop();
    }
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
