import { HANDSHAKE_FAILURES, MonitorProbe } from "../validator";
import { errorText } from "../cli/kit";
import { errorRate, MetricsSource, RequestCounts, relativeIncrease, TimeWindow } from "./metrics";

// The staging incident runbook's automatic rollback triggers, each measured and named: what fired, its value, its
// threshold. Validation failure and a failed service deploy are judged by the pipeline's phases;
// the two rates are judged here, over the watch window.

export const TRIGGERS = {
    validation: "validation failure",
    "service-deploy": "service deploy failure",
    "handshake-failure-rate": "WebSocket handshake failure rate",
    "http-5xx-increase": "HTTP 5xx rate increase over the pre-deploy baseline",
} as const;
export type TriggerName = keyof typeof TRIGGERS;

export interface TriggerResult {
    readonly trigger: TriggerName;
    /** undefined: not measured (no data, or the run stopped before). */
    readonly fired: boolean | undefined;
    readonly value?: number;
    readonly threshold?: number;
    readonly detail: string;
}

export interface WatchSettings {
    /** Seconds to watch after the post-deploy validation; 0 skips the watch. */
    readonly durationSec: number;
    readonly intervalSec: number;
    /** Rollback when the share of failed handshakes over the window is above this (0.10 = 10 %). */
    readonly maxHandshakeFailureRate: number;
    /** Rollback when the 5xx rate rose by more than this, relative to the baseline (0.20 = 20 %). */
    readonly max5xxIncrease: number;
    /** `--no-5xx-trigger`: deploy knowingly without the 5xx trigger (no credentials to read it). */
    readonly no5xxTrigger?: boolean;
}

/** The incident runbook's monitor: every 10 s for 10 minutes; its thresholds: 10 % and 20 %. */
export const WATCH_DEFAULTS: WatchSettings = {
    durationSec: 600,
    intervalSec: 10,
    maxHandshakeFailureRate: 0.1,
    max5xxIncrease: 0.2,
};

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "∞");

/** Handshake failures among the validator's monitor probes: refused, timed out, reset... not echo failures. */
export function handshakeTrigger(probes: readonly MonitorProbe[], threshold: number): TriggerResult {
    if (probes.length === 0) {
        return { trigger: "handshake-failure-rate", fired: undefined, threshold, detail: "no probes ran" };
    }
    const failed = probes.filter((p) => p.code !== undefined && HANDSHAKE_FAILURES.has(p.code));
    const value = failed.length / probes.length;
    const codes = [...new Set(failed.map((p) => `${p.code}${p.status ? ` ${p.status}` : ""}`))].join(", ");
    return {
        trigger: "handshake-failure-rate",
        fired: value > threshold,
        value,
        threshold,
        detail: `${failed.length} of ${probes.length} handshakes failed (${pct(value)}${codes ? `: ${codes}` : ""}); rollback above ${pct(threshold)}`,
    };
}

/** The 5xx rate over the watch window against the same-length window before the deploy. */
export async function http5xxTrigger(
    source: MetricsSource | "off" | undefined,
    baseline: TimeWindow,
    watched: TimeWindow,
    threshold: number,
): Promise<TriggerResult> {
    if (!source) {
        return {
            trigger: "http-5xx-increase",
            fired: undefined,
            threshold,
            detail: "no metrics source for this target",
        };
    }
    if (source === "off") {
        return {
            trigger: "http-5xx-increase",
            fired: undefined,
            threshold,
            detail: "turned off (--no-5xx-trigger)",
        };
    }
    let before: RequestCounts;
    let after: RequestCounts;
    try {
        [before, after] = await Promise.all([source.requestCounts(baseline), source.requestCounts(watched)]);
    } catch (e) {
        // A source that cannot be read is a trigger not measured, never a crash of the run.
        return {
            trigger: "http-5xx-increase",
            fired: undefined,
            threshold,
            detail: `could not read ${source.description}: ${errorText(e).split("\n")[0]}`,
        };
    }
    const beforeRate = errorRate(before);
    const afterRate = errorRate(after);
    const counts = `baseline ${before.errors5xx}/${before.requests}, watch ${after.errors5xx}/${after.requests} (${source.description})`;
    if (beforeRate === undefined || afterRate === undefined) {
        return {
            trigger: "http-5xx-increase",
            fired: undefined,
            threshold,
            detail: `no requests to compare: ${counts}`,
        };
    }
    const value = relativeIncrease(beforeRate, afterRate);
    return {
        trigger: "http-5xx-increase",
        fired: value > threshold,
        value,
        threshold,
        detail: `5xx rate ${pct(beforeRate)} → ${pct(afterRate)}, ${value >= 0 ? "+" : ""}${pct(value)} relative; rollback above +${pct(threshold)}; ${counts}`,
    };
}

/** One line per trigger for the timeline. */
export function describeTrigger(t: TriggerResult): string {
    const state = t.fired === undefined ? "not measured" : t.fired ? "FIRED" : "ok";
    return `${TRIGGERS[t.trigger]}: ${state}: ${t.detail}`;
}
