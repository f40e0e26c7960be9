// `ws-validate merge`: shards from several machines (each a run's --shard-out) summed into one
// result and judged by the same thresholds and exit codes as a single run.
import * as fs from "fs";
import * as path from "path";
import { checkOutputPath, CliIo, EXIT, FlagError, parseFlags, reportError } from "../cli/kit";
import { HISTOGRAM_PRECISION } from "./core";
import {
    evaluate,
    mergeTallies,
    metricsOfTally,
    parseShard,
    renderReport,
    Report,
    reportJson,
    ShardError,
    Tally,
    thresholdsFrom,
    writeReportFiles,
} from "./report";

export const MERGE_USAGE = `usage: ws-validate merge FILE... [options]

Sums the shards that runs wrote with --shard-out (one per machine) into one result: counters and
failure codes added, latency histograms merged bucket by bucket, so the percentiles are those of
all the samples together (to ${HISTOGRAM_PRECISION.significantDigits} significant digits), never
an average of percentiles. The thresholds are judged on the merged data.

options:
      --threshold EXPR        replace a threshold, such as 'handshake_p95_ms<500' (repeatable)
  -j, --json                  print the merged report as JSON
      --report FILE           also write the JSON report to FILE
      --report-html FILE      also write the HTML report to FILE
  -h, --help                  show this help

exit codes: 0 all thresholds met, 1 a threshold breached or a shard recorded a failed check,
2 usage error or a shard file that cannot be read, 130 a shard's run was interrupted`;

const MERGE_FLAGS = {
    threshold: { type: "string", multiple: true },
    json: { type: "boolean", short: "j" },
    report: { type: "string" },
    "report-html": { type: "string" },
    help: { type: "boolean", short: "h" },
} as const;

/** More shards than this is a mistake in a glob, not a fleet. */
const MAX_SHARDS = 10_000;
/** A shard is a few kilobytes; a file far larger is not one. */
const MAX_SHARD_BYTES = 16 * 1024 * 1024;

function readShard(file: string): { tally: Tally; target: string } {
    let text: string;
    try {
        const size = fs.statSync(file).size;
        if (size > MAX_SHARD_BYTES) {
            throw new FlagError(`shard ${file}: ${size} bytes, over the ${MAX_SHARD_BYTES} a shard can be`);
        }
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        if (e instanceof FlagError) {
            throw e;
        }
        throw new FlagError(`shard ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
    }
    try {
        return parseShard(text);
    } catch (e) {
        if (e instanceof ShardError) {
            throw new FlagError(`shard ${file}: ${e.message}`);
        }
        throw e;
    }
}

function checkFiles(files: readonly string[], values: { report?: string; "report-html"?: string }): void {
    if (files.length === 0 || files.length > MAX_SHARDS) {
        throw new FlagError(`merge: got ${files.length} shard files; give 1 to ${MAX_SHARDS}`);
    }
    for (const flag of ["report", "report-html"] as const) {
        const out = values[flag];
        if (out !== undefined) {
            checkOutputPath(flag, out);
            if (files.some((f) => path.resolve(f) === path.resolve(out))) {
                throw new FlagError(`--${flag} ${out}: is one of the shards; it would be overwritten`);
            }
        }
    }
}

/** The merged result as a report: no endpoints of its own, the shards' sums and the verdict on them. */
export function mergedReport(
    shards: ReadonlyArray<{ file: string; tally: Tally; target: string }>,
    thresholdTexts: readonly string[],
): Report {
    const tally = mergeTallies(shards.map((s) => s.tally));
    const metrics = metricsOfTally(tally);
    const judged =
        thresholdTexts.some((t) => t.startsWith("check_success_rate")) || !tally.scenario
            ? thresholdsFrom(thresholdTexts)
            : thresholdsFrom([...thresholdTexts, "check_success_rate>=1"]);
    const thresholds = evaluate(judged, metrics);
    const failed = Object.values(tally.failuresByCode).some((n) => n > 0) || thresholds.some((t) => t.passed === false);
    const targets = [...new Set(shards.map((s) => s.target))];
    return {
        target: {
            url: targets.join(", "),
            source: `merged from ${shards.length} shard${shards.length === 1 ? "" : "s"}`,
        },
        startedAt: new Date().toISOString(),
        durationSec: 0,
        endpoints: [],
        metrics,
        thresholds,
        failures: [],
        merged: { shards: shards.map((s) => s.file), tally },
        verdict: failed ? "fail" : "pass",
        exitCode: tally.interrupted ? EXIT.interrupted : failed ? EXIT.failed : EXIT.ok,
        interrupted: tally.interrupted ? true : undefined,
    };
}

export function mergeMain(argv: string[], io: CliIo): number {
    try {
        const { values, positionals } = parseFlags(argv, MERGE_FLAGS, true);
        if (values.help) {
            io.out(MERGE_USAGE);
            return EXIT.ok;
        }
        checkFiles(positionals, values);
        // Thresholds are parsed before the shards are read: a typo is named before any file is.
        thresholdsFrom(values.threshold ?? []);
        const shards = positionals.map((file) => ({ file, ...readShard(file) }));
        const report = mergedReport(shards, values.threshold ?? []);
        io.out(values.json ? reportJson(report) : renderReport(report));
        for (const f of writeReportFiles(report, values)) {
            io.err(`error: ${f}`);
        }
        return report.exitCode;
    } catch (e) {
        return reportError(io, e, { usage: MERGE_USAGE });
    }
}
