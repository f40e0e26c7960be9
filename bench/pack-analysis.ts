// The policy pack alone on a recorded stack: starts a fresh pack (as the preview does), then
// Configure, Analyze for every resource, AnalyzeStack, with no program running beside it.
// Prints one JSON line: startMs (spawn to serving), analysisMs, packPeakMiB, diagnostics.
//   node -r ./cli/register.js bench/pack-analysis.ts RESOURCES.json
// RESOURCES.json is what runProgram recorded (bench/preview-scaling.ts writes it).
import * as fs from "fs";
import * as path from "path";
import { RecordedResource, resolvePolicyConfig, RunningPack } from "../preview";

async function main(): Promise<void> {
    const file = process.argv[2];
    if (!file) {
        throw new Error("usage: bench/pack-analysis.ts RESOURCES.json");
    }
    const resources = JSON.parse(fs.readFileSync(file, "utf8")) as RecordedResource[];
    const started = Date.now();
    const pack = await RunningPack.start(path.resolve(__dirname, "..", "policies")).ready;
    const servedAt = Date.now();
    await pack.configure(resolvePolicyConfig(await pack.info()), { project: "websocket-lb", stack: "bench" });
    const diagnostics = await pack.analyze(resources);
    const analysisMs = Date.now() - servedAt;
    const status = fs.readFileSync(`/proc/${pack.pid}/status`, "utf8");
    const packPeakMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    pack.stop();
    console.log(JSON.stringify({ startMs: servedAt - started, analysisMs, packPeakMiB, diagnostics: diagnostics.length }));
}

main().then(
    () => process.exit(0),
    (e: unknown) => {
        console.error(e instanceof Error ? e.message : String(e));
        process.exit(1);
    },
);
