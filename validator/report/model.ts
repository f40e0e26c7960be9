// What a run found: the shape every rendering reads and `--json` writes. It lives with the reports,
// which read it; run.ts builds it.
import { writeOutputFile } from "../../cli/kit";
import type { AffinityResult, ScenarioResult } from "../scenario";
import type { EndpointResult, Failure, LoadResult, MonitorResult, SecurityCheckResult } from "../core";
import type { Evaluation, Metric } from "./thresholds";
import { renderReportHtml } from "./html";
import type { Tally } from "./tally";

export interface Report {
    readonly target: { url: string; source: string };
    readonly startedAt: string;
    readonly durationSec: number;
    readonly endpoints: EndpointResult[];
    readonly load?: LoadResult;
    readonly monitor?: MonitorResult;
    readonly scenario?: ScenarioResult;
    readonly affinity?: AffinityResult;
    /** --check-origin and --check-rate-limit, in the order they ran. */
    readonly security?: SecurityCheckResult[];
    readonly metrics: Partial<Record<Metric, number>>;
    readonly thresholds: Evaluation[];
    readonly failures: Array<Failure & { endpoint?: string }>;
    readonly verdict: "pass" | "fail";
    /** 130 when interrupted: the results are what was measured until then. */
    readonly exitCode: 0 | 1 | 130;
    /** What adds up across machines: what --shard-out writes (left out of the JSON report). */
    readonly tally?: Tally;
    /** A report of `ws-validate merge`: the shard files it summed and what they counted. */
    readonly merged?: { readonly shards: string[]; readonly tally: Tally };
    /** Ctrl-C or SIGTERM stopped the run before its end. */
    readonly interrupted?: boolean;
}

// Raw samples and histograms: the percentiles are kept, --shard-out writes the histograms.
const OMITTED = new Set(["samples", "handshakeSamples", "handshakeHistogram", "tally", "histograms"]);

/** The report as JSON, without the raw latency samples (the percentiles are kept). */
export function reportJson(report: object): string {
    return JSON.stringify(report, (key, value: unknown) => (OMITTED.has(key) ? undefined : value), 2);
}

/**
 * Writes the JSON report (`--report`) and the HTML one (`--report-html`) where the flags ask, after
 * the run: a write that fails is returned as one line for stderr, and the verdict stands.
 */
export function writeReportFiles(report: Report, paths: { report?: string; "report-html"?: string }): string[] {
    return [
        paths.report === undefined ? undefined : writeOutputFile("report", paths.report, reportJson(report) + "\n"),
        paths["report-html"] === undefined
            ? undefined
            : writeOutputFile("report-html", paths["report-html"], renderReportHtml(report)),
    ].filter((f): f is string => f !== undefined);
}
