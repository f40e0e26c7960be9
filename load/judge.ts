// After the execution: every task's shard read from the bucket, merged and judged as
// `ws-validate merge` does; a task that wrote no shard, or one that cannot be read, fails the run,
// because the merged numbers would silently leave its connections out.
import { CliIo, EXIT } from "../cli/kit";
import { mergedReport } from "../validator/merge";
import { parseShard, Report, ShardError, Tally, writeReportFiles } from "../validator/report";
import { openBucket, readShards, runPrefix } from "./storage";
import { LoadTestOutputs } from "./stack";

export interface Judged {
    readonly report: Report;
    /** "3 of 3 tasks wrote a shard" and which did not. */
    readonly summary: string;
    readonly writeFailures: (paths: { report?: string; "report-html"?: string }) => string[];
}

export async function judgeShards(options: {
    io: CliIo;
    target: LoadTestOutputs;
    runId: string;
    tasks: number;
    thresholds: readonly string[];
    apiTimeoutSec: number;
}): Promise<Judged> {
    const { target, runId, tasks } = options;
    const bucket = openBucket(options.io.env, target.bucket, options.apiTimeoutSec * 1000);
    let stored;
    try {
        stored = await readShards(bucket, runId);
    } catch (e) {
        throw new Error(
            `could not read the shards under gs://${target.bucket}/${runPrefix(runId)}: ${(e as Error).message}`,
            {
                cause: e,
            },
        );
    }
    const shards: Array<{ file: string; tally: Tally; target: string }> = [];
    const unreadable: string[] = [];
    for (const s of stored) {
        try {
            shards.push({ file: s.object, ...parseShard(s.text) });
        } catch (e) {
            if (!(e instanceof ShardError)) {
                throw e;
            }
            unreadable.push(`${s.object} ${e.message}`);
        }
    }
    const written = new Set(stored.map((s) => s.task));
    const missing = Array.from({ length: tasks }, (_, i) => i).filter((i) => !written.has(i));
    const problems = [
        ...(missing.length > 0 ? [`task${missing.length === 1 ? "" : "s"} ${listOf(missing)} wrote no shard`] : []),
        ...unreadable,
    ];
    const summary = `${written.size} of ${tasks} tasks wrote a shard${problems.length ? `; ${problems.join("; ")}` : ""}`;
    if (shards.length === 0) {
        throw new Error(`no shard to merge under gs://${target.bucket}/${runPrefix(runId)}: ${summary}`);
    }
    const merged = mergedReport(shards, options.thresholds);
    const failed = problems.length > 0 && merged.exitCode === EXIT.ok;
    const report: Report = failed ? { ...merged, verdict: "fail", exitCode: EXIT.failed } : merged;
    return { report, summary, writeFailures: (paths) => writeReportFiles(report, paths) };
}

/** "0, 2, 5" or "0-3, 7": a long list of missing tasks stays one line. */
function listOf(indexes: readonly number[]): string {
    const parts: string[] = [];
    for (let i = 0; i < indexes.length; i++) {
        let j = i;
        while (j + 1 < indexes.length && indexes[j + 1] === indexes[j] + 1) {
            j++;
        }
        parts.push(j > i ? `${indexes[i]}-${indexes[j]}` : String(indexes[i]));
        i = j;
    }
    return parts.join(", ");
}
