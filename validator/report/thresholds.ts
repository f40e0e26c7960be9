// Thresholds are data (as in k6): parsed from text, evaluated after the run on what it measured.

import { FlagError } from "../../cli/kit";

export const METRICS = {
    handshake_success_rate: "share of attempted handshakes answered with 101 (0..1)",
    connection_success_rate: "share of opened connections that stayed up until the validator closed them (0..1)",
    handshake_p95_ms: "95th percentile of time to 101, in milliseconds",
    handshake_p99_ms: "99th percentile of time to 101, in milliseconds",
    message_latency_p95_ms: "95th percentile of echo round trips, in milliseconds",
    hold_reached_rate: "share of hold connections that lasted the full --hold (0..1)",
    check_success_rate: "share of --scenario check runs that passed every step (0..1)",
} as const;
export type Metric = keyof typeof METRICS;

type Operator = "<=" | ">=" | "<" | ">";

export interface Threshold {
    readonly metric: Metric;
    readonly operator: Operator;
    readonly value: number;
    readonly source: string;
}

/** The bars of the staging incident report. */
export const DEFAULT_THRESHOLDS = [
    "handshake_success_rate>=0.95",
    "connection_success_rate>=0.98",
    "handshake_p95_ms<2000",
    "message_latency_p95_ms<100",
    "hold_reached_rate>=1",
];

/** Added when a run has a scenario and no threshold on its metric: every check run must pass. */
export const SCENARIO_DEFAULT_THRESHOLD = "check_success_rate>=1";

/** A --threshold that cannot be parsed. */
export class ThresholdError extends FlagError {}

export function parseThreshold(text: string): Threshold {
    const match = /^\s*([a-z0-9_]+)\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+)\s*(%?)\s*$/.exec(text);
    if (!match) {
        throw new ThresholdError(
            `--threshold ${JSON.stringify(text)}: expected METRIC OP NUMBER, such as handshake_p95_ms<500 or handshake_success_rate>=95%`,
        );
    }
    const [, metric, operator, number, percent] = match;
    if (!(metric in METRICS)) {
        throw new ThresholdError(
            `--threshold ${JSON.stringify(text)}: unknown metric ${metric}; metrics: ${Object.keys(METRICS).join(", ")}`,
        );
    }
    return {
        metric: metric as Metric,
        operator: operator as Operator,
        value: Number(number) / (percent ? 100 : 1),
        source: text.trim(),
    };
}

/** The defaults, with each given threshold replacing the default on the same metric. */
export function thresholdsFrom(overrides: readonly string[]): Threshold[] {
    const given = overrides.map(parseThreshold);
    const defaults = DEFAULT_THRESHOLDS.map(parseThreshold).filter((d) => !given.some((g) => g.metric === d.metric));
    return [...defaults, ...given];
}

export interface Evaluation {
    readonly threshold: Threshold;
    readonly observed?: number;
    /** undefined when the run measured nothing for this metric (say, no echo). */
    readonly passed?: boolean;
}

export function evaluate(thresholds: readonly Threshold[], observed: Partial<Record<Metric, number>>): Evaluation[] {
    return thresholds.map((threshold) => {
        const value = observed[threshold.metric];
        if (value === undefined) {
            return { threshold };
        }
        const passed =
            threshold.operator === "<"
                ? value < threshold.value
                : threshold.operator === "<="
                  ? value <= threshold.value
                  : threshold.operator === ">"
                    ? value > threshold.value
                    : value >= threshold.value;
        return { threshold, observed: value, passed };
    });
}
