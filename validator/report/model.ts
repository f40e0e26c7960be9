// What a run found: the shape every rendering reads and `--json` writes. It lives with the reports,
// which read it; run.ts builds it.
import type { AffinityResult, ScenarioResult } from "../scenario";
import type { EndpointResult, Failure, LoadResult, MonitorResult, SecurityCheckResult } from "../core";
import type { Evaluation, Metric } from "./thresholds";

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
    /** Ctrl-C or SIGTERM stopped the run before its end. */
    readonly interrupted?: boolean;
}

/** The report as JSON, without the raw latency samples (the percentiles are kept). */
export function reportJson(report: object): string {
    return JSON.stringify(
        report,
        (key, value: unknown) => (key === "samples" || key === "handshakeSamples" ? undefined : value),
        2,
    );
}
