// Median of 5 full offline previews of a stack, each a fresh process as a user runs it, with
// the time split into program run, pack start and analysis (the command reports these in --json).
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.RUNS ?? 5);
const stack = process.argv[2] ?? "staging";

interface Timings {
    wallMs: number;
    programMs: number;
    packStartMs: number;
    analysisMs: number;
}

function once(): Timings {
    const started = process.hrtime.bigint();
    const result = spawnSync(
        process.execPath,
        ["-r", path.join(ROOT, "cli", "register.js"), path.join(ROOT, "preview", "cli.ts"), "--stack", stack, "--json"],
        {
            cwd: ROOT,
            encoding: "utf8",
        },
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
        throw new Error(`preview exited ${result.status}: ${result.stderr}`);
    }
    const { timings } = JSON.parse(result.stdout) as { timings: Omit<Timings, "wallMs"> };
    return { wallMs, ...timings };
}

const samples: Timings[] = [];
for (let i = 0; i < RUNS; i++) {
    samples.push(once());
}
const row = (label: string, key: keyof Timings) =>
    `| ${label.padEnd(34)} | ${median(samples.map((s) => s[key]))
        .toFixed(0)
        .padStart(9)} | ${samples.map((s) => s[key].toFixed(0)).join(", ")} |`;
console.log(
    `offline preview of ${stack}: ${RUNS} runs on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log("| phase                              | median ms | runs (ms) |");
console.log("| ---------------------------------- | --------- | --------- |");
console.log(row("end to end (process start to exit)", "wallMs"));
console.log(row("program under the mock runtime", "programMs"));
console.log(row("pack start (in parallel with it)", "packStartMs"));
console.log(row("analysis (gRPC, every policy)", "analysisMs"));
const target = 2_500;
const wall = median(samples.map((s) => s.wallMs));
console.log(`target: under ${target} ms end to end: ${wall < target ? "met" : "MISSED"}`);
