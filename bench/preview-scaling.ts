// How the offline preview scales with the stack: 1, 10, 100 and 1,000 backends (SIZES to change),
// each a generated stack in a temp folder, each size previewed RUNS times as a fresh process.
// Prints, per size, medians of: end to end, the phases the command reports in --json, and peak
// resident memory of the preview process and of the pack process (sampled from /proc). Then the
// pack alone: a fresh pack started and fed the same stack's recorded resources, no program
// running beside it (bench/pack-analysis.ts), RUNS times.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackConfig, runProgram } from "../preview";
import { BIG_STACK, writeBigStack } from "./big-stack";
import { median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const REGISTER = path.join(ROOT, "cli", "register.js");
const RUNS = Number(process.env.RUNS ?? 5);
const SIZES = (process.env.SIZES ?? "1,10,100,1000").split(",").map(Number);

interface Sample {
    resources: number;
    wallMs: number;
    programMs: number;
    packStartMs: number;
    analysisMs: number;
    packAndAnalysisMs: number;
    previewPeakMiB: number;
    packPeakMiB: number;
}

function rssMiB(pid: number): number {
    try {
        return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
        return 0;
    }
}

function childrenOf(pid: number): number[] {
    try {
        return fs
            .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map(Number);
    } catch {
        return [];
    }
}

function once(stackFile: string): Promise<Sample> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn(
            process.execPath,
            [
                "-r",
                REGISTER,
                path.join(ROOT, "preview", "cli.ts"),
                "--stack",
                BIG_STACK,
                "--stack-file",
                stackFile,
                "--json",
            ],
            {
                cwd: ROOT,
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        let stdout = "";
        let stderr = "";
        let previewPeakMiB = 0;
        let packPeakMiB = 0;
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const sample = () => {
            previewPeakMiB = Math.max(previewPeakMiB, rssMiB(child.pid!));
            for (const pack of childrenOf(child.pid!)) {
                packPeakMiB = Math.max(packPeakMiB, rssMiB(pack));
            }
        };
        const sampler = setInterval(sample, 50);
        child.on("error", reject);
        child.on("close", (code) => {
            clearInterval(sampler);
            const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
            if (code !== 0) {
                reject(new Error(`preview exited ${code}: ${stderr}`));
                return;
            }
            const doc = JSON.parse(stdout) as {
                summary: { resources: number };
                timings: { programMs: number; packStartMs: number; analysisMs: number };
            };
            const { programMs, packStartMs, analysisMs } = doc.timings;
            resolve({
                resources: doc.summary.resources,
                wallMs,
                programMs,
                packStartMs,
                analysisMs,
                packAndAnalysisMs: packStartMs + analysisMs,
                previewPeakMiB,
                packPeakMiB,
            });
        });
    });
}

interface PackAlone {
    startMs: number;
    analysisMs: number;
    packPeakMiB: number;
}

/** The pack alone on the stack's recorded resources, RUNS fresh packs. */
async function packAlone(stackFile: string): Promise<PackAlone[]> {
    const stack = loadStackConfig({ projectDir: ROOT, stack: BIG_STACK, stackFile });
    const { resources } = await runProgram(stack, { unknownAtPreview: true });
    const file = path.join(path.dirname(stackFile), "resources.json");
    fs.writeFileSync(file, JSON.stringify(resources));
    const samples: PackAlone[] = [];
    for (let i = 0; i < RUNS; i++) {
        const run = spawnSync(process.execPath, ["-r", REGISTER, path.join(__dirname, "pack-analysis.ts"), file], {
            cwd: ROOT,
            encoding: "utf8",
        });
        if (run.status !== 0) {
            throw new Error(`pack-analysis exited ${run.status}: ${run.stderr}`);
        }
        samples.push(JSON.parse(run.stdout) as PackAlone);
    }
    return samples;
}

async function main(): Promise<void> {
    console.log(
        `offline preview scaling: median of ${RUNS} runs per size on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
        "| backends | resources | end to end ms | program ms | pack start ms | analysis ms | pack start + analysis ms | preview peak MiB | pack peak MiB |",
    );
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    const rows: Record<number, Sample> = {};
    const alone: Record<number, PackAlone> = {};
    for (const size of SIZES) {
        const file = writeBigStack(size);
        const samples: Sample[] = [];
        try {
            for (let i = 0; i < RUNS; i++) {
                samples.push(await once(file));
            }
            const packSamples = await packAlone(file);
            alone[size] = {
                startMs: median(packSamples.map((s) => s.startMs)),
                analysisMs: median(packSamples.map((s) => s.analysisMs)),
                packPeakMiB: median(packSamples.map((s) => s.packPeakMiB)),
            };
        } finally {
            fs.rmSync(path.dirname(file), { recursive: true, force: true });
        }
        const m = (f: (s: Sample) => number) => median(samples.map(f));
        const row: Sample = {
            resources: m((s) => s.resources),
            wallMs: m((s) => s.wallMs),
            programMs: m((s) => s.programMs),
            packStartMs: m((s) => s.packStartMs),
            analysisMs: m((s) => s.analysisMs),
            packAndAnalysisMs: m((s) => s.packAndAnalysisMs),
            previewPeakMiB: m((s) => s.previewPeakMiB),
            packPeakMiB: m((s) => s.packPeakMiB),
        };
        rows[size] = row;
        const cells = [
            size,
            row.resources,
            row.wallMs,
            row.programMs,
            row.packStartMs,
            row.analysisMs,
            row.packAndAnalysisMs,
            row.previewPeakMiB,
            row.packPeakMiB,
        ];
        console.log(`| ${cells.map((c) => c.toFixed(0)).join(" | ")} |`);
    }
    console.log("");
    console.log("the pack alone on each stack's recorded resources (fresh pack, no program beside it):");
    console.log("| backends | pack start ms | analysis ms | pack start + analysis ms | pack peak MiB |");
    console.log("| ---: | ---: | ---: | ---: | ---: |");
    for (const size of SIZES) {
        const a = alone[size];
        console.log(
            `| ${[size, a.startMs, a.analysisMs, a.startMs + a.analysisMs, a.packPeakMiB].map((c) => c.toFixed(0)).join(" | ")} |`,
        );
    }
    const big = rows[1000];
    if (big) {
        const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
        console.log(
            `1,000 backends, end to end under 8,000 ms: ${verdict(big.wallMs <= 8000)}; largest process under 500 MB: ${verdict(Math.max(big.previewPeakMiB, big.packPeakMiB) * 2 ** 20 <= 500e6)}`,
        );
        console.log(
            `1,000 backends, pack start + analysis under 3,000 ms: ${verdict(big.packAndAnalysisMs <= 3000)} in the preview; ${verdict(alone[1000].startMs + alone[1000].analysisMs <= 3000)} for the pack alone`,
        );
    }
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
});
