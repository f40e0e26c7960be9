// The policy pack alone on a recorded stack: starts a fresh pack (as the preview does), then
// Configure, Analyze for every resource, AnalyzeStack, with no program running beside it.
// Prints one JSON line: startMs (spawn to serving), analysisMs, packPeakMiB, diagnostics.
//   node -r ./cli/register.js bench/pack-analysis.ts RESOURCES.json
// RESOURCES.json is what runProgram recorded (bench/preview-scaling.ts writes it).
import * as fs from "fs";
import * as path from "path";
// The analyzer client's modules, not preview/index.ts: that loads the SDK, and bench/pack-start.ts
// requires this file beside the pack it times.
import { RunningPack } from "../preview/analyzer";
import { resolvePolicyConfig } from "../preview/policy-config";
import type { RecordedResource } from "../preview/program";

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
    const peak = packPeakMiB(pack);
    pack.stop();
    console.log(
        JSON.stringify({ startMs: servedAt - started, analysisMs, packPeakMiB: peak, diagnostics: diagnostics.length }),
    );
}

/** A running pack's peak resident memory so far (the kernel's VmHWM), in MiB; 0 when unreadable. */
export function packPeakMiB(pack: RunningPack): number {
    try {
        return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pack.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
        return 0;
    }
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (e: unknown) => {
            console.error(e instanceof Error ? e.message : String(e));
            process.exit(1);
        },
    );
}
