// One fast path into another library's internals against the library's public path, in pairs:
// the 1,000-backend offline preview (SIZE to change) run with it on (A) and off (B,
// WEBSOCKET_LB_NO_FAST_PATH=<name>), each run a fresh process, one warm-up run of each first, then
// PAIRS pairs whose order swaps every pair so a drifting machine weighs on both alike.
//   FAST_PATH=wire PAIRS=7 npm run bench:fast-path
// MODE=pack times the pack alone on the stack's recorded resources (bench/pack-analysis.ts)
// instead of the whole preview: what a path inside the pack buys the pack.
// Prints every run, then per measure the medians of A and of B, the median of the A/B ratios pair
// by pair with its 95 % bootstrap interval, and the load average around the runs.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackConfig, runProgram } from "../preview";
import { NO_FAST_PATH_ENV } from "../preview/fast-paths";
import { BIG_STACK, writeBigStack } from "./big-stack";
import { bootstrapMedian, median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const REGISTER = path.join(ROOT, "cli", "register.js");
const USAGE_PRELOAD = path.join(__dirname, "process-usage.ts");
const CLOCK_TICKS = 100;

function bounded(name: string, fallback: number, min: number, max: number): number {
    const raw = process.env[name];
    const value = raw === undefined || raw === "" ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
        console.error(`${name} is ${raw}; allowed: an integer from ${min} to ${max}`);
        process.exit(2);
    }
    return value;
}

const FAST_PATH = process.env.FAST_PATH ?? "";
const MODE = process.env.MODE ?? "preview";
const SIZE = bounded("SIZE", 1000, 1, 9999);
const PAIRS = bounded("PAIRS", 5, 1, 50);

type Measures = Record<string, number>;

/** Peak resident memory (VmHWM) and CPU seconds of a process, from /proc; undefined once it is gone. */
function procUsage(pid: number): { peakMiB: number; cpuSec: number } | undefined {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
        const cpuSec = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
        return { peakMiB: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024, cpuSec };
    } catch {
        return undefined;
    }
}

function childrenOf(pid: number): number[] {
    try {
        const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
        return text ? text.split(/\s+/).map(Number) : [];
    } catch {
        return [];
    }
}

/** Runs one process to its end; the packs it starts are sampled from /proc until they go. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; wallMs: number; packs: Measures }> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const packs = new Map<number, { peakMiB: number; cpuSec: number }>();
        const sampler = setInterval(() => {
            for (const pid of childrenOf(child.pid!)) {
                const usage = procUsage(pid);
                const seen = packs.get(pid);
                if (usage) {
                    // A pack that has just ended reads as a zombie, with no memory figures left.
                    packs.set(pid, {
                        peakMiB: Math.max(usage.peakMiB, seen?.peakMiB ?? 0),
                        cpuSec: Math.max(usage.cpuSec, seen?.cpuSec ?? 0),
                    });
                }
            }
        }, 25);
        child.on("error", reject);
        child.on("close", (code) => {
            clearInterval(sampler);
            const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
            if (code !== 0 && code !== 1) {
                reject(new Error(`exited ${code}: ${stderr}`));
                return;
            }
            const all = [...packs.values()];
            resolve({
                stdout,
                wallMs,
                packs: {
                    packPeakMiB: Math.max(0, ...all.map((p) => p.peakMiB)),
                    packCpuSec: all.reduce((sum, p) => sum + p.cpuSec, 0),
                },
            });
        });
    });
}

async function previewRun(stackFile: string, env: NodeJS.ProcessEnv): Promise<Measures> {
    const usageFile = path.join(path.dirname(stackFile), "usage.json");
    const args = ["-r", REGISTER, "-r", USAGE_PRELOAD, path.join(ROOT, "preview", "cli.ts")];
    const { stdout, wallMs, packs } = await run([...args, "--stack", BIG_STACK, "--stack-file", stackFile, "--json"], {
        ...env,
        PROCESS_USAGE_FILE: usageFile,
    });
    const doc = JSON.parse(stdout) as {
        diagnostics: unknown[];
        timings: { programMs: number; packStartMs: number; analysisMs: number };
    };
    const usage = JSON.parse(fs.readFileSync(usageFile, "utf8")) as { maxRssBytes: number; cpuSec: number };
    return {
        wallMs,
        programMs: doc.timings.programMs,
        analysisMs: doc.timings.analysisMs,
        packStartPlusAnalysisMs: doc.timings.packStartMs + doc.timings.analysisMs,
        previewCpuSec: usage.cpuSec,
        previewPeakMiB: usage.maxRssBytes / 2 ** 20,
        ...packs,
        diagnostics: doc.diagnostics.length,
    };
}

async function packRun(resourcesFile: string, env: NodeJS.ProcessEnv): Promise<Measures> {
    const { stdout, wallMs, packs } = await run(
        ["-r", REGISTER, path.join(__dirname, "pack-analysis.ts"), resourcesFile],
        env,
    );
    const doc = JSON.parse(stdout) as { startMs: number; analysisMs: number; diagnostics: number };
    return { wallMs, startMs: doc.startMs, analysisMs: doc.analysisMs, ...packs, diagnostics: doc.diagnostics };
}

function fmt(n: number): string {
    return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2);
}

function report(a: Measures[], b: Measures[], loads: number[]): void {
    console.log("");
    console.log(
        `| measure | with (A), median | without (B), median | A/B, median of ${a.length} pairs | 95 % interval |`,
    );
    console.log("| --- | ---: | ---: | ---: | --- |");
    for (const key of Object.keys(a[0])) {
        const ratios = a.map((s, i) => (b[i][key] === 0 ? 1 : s[key] / b[i][key]));
        const [low, high] = bootstrapMedian(ratios);
        console.log(
            `| ${key} | ${fmt(median(a.map((s) => s[key])))} | ${fmt(median(b.map((s) => s[key])))} | ${median(ratios).toFixed(3)} | ${low.toFixed(3)} to ${high.toFixed(3)} |`,
        );
    }
    console.log(
        `load average (1 min) at each run's start: median ${median(loads).toFixed(1)}, from ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}`,
    );
}

async function main(): Promise<void> {
    if (!FAST_PATH) {
        console.error(`FAST_PATH is not set; allowed: a name ${NO_FAST_PATH_ENV} takes`);
        process.exit(2);
    }
    if (MODE !== "preview" && MODE !== "pack") {
        console.error(`MODE is ${MODE}; allowed: preview or pack`);
        process.exit(2);
    }
    const stackFile = writeBigStack(SIZE);
    const dir = path.dirname(stackFile);
    try {
        let once = (env: NodeJS.ProcessEnv) => previewRun(stackFile, env);
        if (MODE === "pack") {
            const stack = loadStackConfig({ projectDir: ROOT, stack: BIG_STACK, stackFile });
            const { resources } = await runProgram(stack, { unknownAtPreview: true });
            const file = path.join(dir, "resources.json");
            fs.writeFileSync(file, JSON.stringify(resources));
            once = (env) => packRun(file, env);
        }
        const on: NodeJS.ProcessEnv = { ...process.env, [NO_FAST_PATH_ENV]: "" };
        const off: NodeJS.ProcessEnv = { ...process.env, [NO_FAST_PATH_ENV]: FAST_PATH };
        console.log(
            `${FAST_PATH} on (A) and off (B), ${MODE === "pack" ? "the pack alone" : "the offline preview"} at ${SIZE} backends, ${PAIRS} pairs after one warm-up each, on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, Node ${process.version}`,
        );
        await once(on);
        await once(off);
        const a: Measures[] = [];
        const b: Measures[] = [];
        const loads: number[] = [];
        for (let i = 0; i < PAIRS; i++) {
            for (const side of i % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
                loads.push(os.loadavg()[0]);
                const sample = await once(side === "A" ? on : off);
                (side === "A" ? a : b).push(sample);
                console.log(
                    `pair ${i + 1} ${side}: ${JSON.stringify(sample, (_, v: unknown) => (typeof v === "number" ? Number(fmt(v)) : v))}`,
                );
            }
        }
        report(a, b, loads);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
});
