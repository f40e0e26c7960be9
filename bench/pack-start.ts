// Median of 5 policy-pack starts, each a fresh process started the way the Pulumi CLI starts a
// Node.js pack (`@pulumi/pulumi/cmd/run-policy-pack` in the pack's folder), timed from spawn to
// the pack serving and answering GetAnalyzerInfo: once with Node's compile cache, as the
// offline preview starts it, once without, as a plain `pulumi preview --policy-pack` does.
// Also the pack process's peak resident memory, from /proc.
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.RUNS ?? 5);
const GOAL_MS = 1_200;

/** One start in a child of its own, so nothing of this process is warm for it. */
const ONE_START = `
const { RunningPack } = require(${JSON.stringify(path.join(ROOT, "preview", "analyzer.ts"))});
const { packPeakMiB } = require(${JSON.stringify(path.join(__dirname, "pack-analysis.ts"))});
const started = Date.now();
RunningPack.start(${JSON.stringify(path.join(ROOT, "policies"))}).ready.then(async (pack) => {
    const info = await pack.info();
    const ms = Date.now() - started;
    const peakMiB = packPeakMiB(pack);
    pack.stop();
    console.log(JSON.stringify({ ms, servedMs: pack.startMs, policies: info.policies.length, peakMiB }));
});
`;

interface Start {
    ms: number;
    servedMs: number;
    policies: number;
    peakMiB: number;
}

function once(compileCache: boolean): Start {
    // The driver starts through the project's loader, which hands the pack the commands' own
    // compile cache (warmed by earlier runs), or, told not to, no compile cache at all.
    const env: NodeJS.ProcessEnv = { ...process.env, WEBSOCKET_LB_NO_COMPILE_CACHE: compileCache ? "" : "1" };
    delete env.NODE_COMPILE_CACHE;
    const result = spawnSync(process.execPath, ["-r", path.join(ROOT, "cli", "register.js"), "-e", ONE_START], {
        cwd: ROOT,
        env,
        encoding: "utf8",
    });
    if (result.status !== 0) {
        throw new Error(`pack start failed: ${result.stderr}`);
    }
    return JSON.parse(result.stdout) as Start;
}

console.log(
    `policy pack start: ${RUNS} runs each on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`,
);
console.log("| how | to serving + GetAnalyzerInfo, median ms | runs (ms) | pack peak MiB |");
console.log("| --- | ---: | --- | ---: |");
const rows: Record<string, number> = {};
// Warm the cache once, then alternate, so drift of a shared machine hits both alike.
once(true);
const samples: Record<"cache" | "plain", Start[]> = { cache: [], plain: [] };
for (let i = 0; i < RUNS; i++) {
    samples.cache.push(once(true));
    samples.plain.push(once(false));
}
for (const [label, key] of [
    ["compile cache (as the offline preview starts it)", "cache"],
    ["no compile cache (as a plain `pulumi preview --policy-pack` starts it)", "plain"],
] as const) {
    const ms = median(samples[key].map((s) => s.ms));
    rows[key] = ms;
    console.log(
        `| ${label} | ${ms.toFixed(0)} | ${samples[key].map((s) => s.ms.toFixed(0)).join(", ")} | ${median(samples[key].map((s) => s.peakMiB)).toFixed(0)} |`,
    );
}
console.log(
    `goal: under ${GOAL_MS} ms: ${rows.cache <= GOAL_MS ? "met" : "MISSED"} with the compile cache, ${rows.plain <= GOAL_MS ? "met" : "MISSED"} without`,
);
