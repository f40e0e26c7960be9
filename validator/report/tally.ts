// A run reduced to what adds up across machines: counters, failure codes with counts and latency
// histograms. The run's metrics are computed from this tally, and `ws-validate merge` computes
// them from the sum of several, so one machine and N shards are judged by the same arithmetic.
import {
    decodeHistogram,
    encodeHistogram,
    Histogram,
    HISTOGRAM_PRECISION,
    mergeHistograms,
    percentileMs,
} from "../core";
import type { FailureCode } from "../core";
import { FAILURE_CODES } from "../core";
import type { Metric } from "./thresholds";

export const COUNTERS = [
    "handshakesAttempted",
    "handshakesOpened",
    "connectionsStayedUp",
    "holds",
    "holdsReached",
    "checkRuns",
    "checksPassed",
] as const;
export type Counter = (typeof COUNTERS)[number];

const HISTOGRAMS = ["handshakeMs", "messageLatencyMs"] as const;
type HistogramName = (typeof HISTOGRAMS)[number];

export interface Tally {
    readonly counters: Record<Counter, number>;
    /** Failures that fail a run whatever the thresholds (an endpoint's, the affinity check's). */
    readonly failuresByCode: Partial<Record<FailureCode, number>>;
    /** Load handshakes that did not open, by code: judged through handshake_success_rate. */
    readonly loadFailuresByCode: Partial<Record<FailureCode, number>>;
    readonly histograms: Record<HistogramName, Histogram>;
    /** A scenario ran: check_success_rate is measured (1 when it had no runs, as a run reports). */
    readonly scenario: boolean;
    readonly interrupted: boolean;
}

/** The metrics --threshold judges, from a tally. */
export function metricsOfTally(t: Tally): Partial<Record<Metric, number>> {
    const c = t.counters;
    const metrics: Partial<Record<Metric, number | undefined>> = {
        handshake_success_rate: c.handshakesAttempted > 0 ? c.handshakesOpened / c.handshakesAttempted : undefined,
        connection_success_rate: c.handshakesOpened > 0 ? c.connectionsStayedUp / c.handshakesOpened : undefined,
        handshake_p95_ms: percentileMs(t.histograms.handshakeMs, 95),
        handshake_p99_ms: percentileMs(t.histograms.handshakeMs, 99),
        message_latency_p95_ms: percentileMs(t.histograms.messageLatencyMs, 95),
        hold_reached_rate: c.holds > 0 ? c.holdsReached / c.holds : undefined,
        check_success_rate: t.scenario ? (c.checkRuns === 0 ? 1 : c.checksPassed / c.checkRuns) : undefined,
    };
    return Object.fromEntries(Object.entries(metrics).filter(([, v]) => v !== undefined));
}

function addCodes(
    into: Partial<Record<FailureCode, number>>,
    from: Partial<Record<FailureCode, number>>,
): Partial<Record<FailureCode, number>> {
    for (const [code, n] of Object.entries(from) as Array<[FailureCode, number]>) {
        into[code] = (into[code] ?? 0) + n;
    }
    return into;
}

/** The sum of several tallies: counters and codes added, histograms merged bucket by bucket. */
export function mergeTallies(tallies: readonly Tally[]): Tally {
    const counters = Object.fromEntries(
        COUNTERS.map((name) => [name, tallies.reduce((sum, t) => sum + t.counters[name], 0)]),
    ) as Record<Counter, number>;
    const histograms = Object.fromEntries(
        HISTOGRAMS.map((name) => [name, mergeHistograms(tallies.map((t) => t.histograms[name]))]),
    ) as Record<HistogramName, Histogram>;
    return {
        counters,
        failuresByCode: tallies.reduce((all, t) => addCodes(all, t.failuresByCode), {}),
        loadFailuresByCode: tallies.reduce((all, t) => addCodes(all, t.loadFailuresByCode), {}),
        histograms,
        scenario: tallies.some((t) => t.scenario),
        interrupted: tallies.some((t) => t.interrupted),
    };
}

const SHARD_FORMAT = "ws-validate-shard";
const SHARD_VERSION = 1;

/** What --shard-out writes: the tally as JSON, each histogram in HDR's compressed base64 form. */
export function shardJson(tally: Tally, meta: { target: string; startedAt: string; durationSec: number }): string {
    return JSON.stringify(
        {
            format: SHARD_FORMAT,
            version: SHARD_VERSION,
            ...meta,
            histogramUnit: HISTOGRAM_PRECISION.unit,
            histogramSignificantDigits: HISTOGRAM_PRECISION.significantDigits,
            counters: tally.counters,
            failuresByCode: tally.failuresByCode,
            loadFailuresByCode: tally.loadFailuresByCode,
            histograms: Object.fromEntries(HISTOGRAMS.map((name) => [name, encodeHistogram(tally.histograms[name])])),
            scenario: tally.scenario,
            interrupted: tally.interrupted,
        },
        null,
        2,
    );
}

/** A shard file's content that is not a shard: the message says what is wrong with it. */
export class ShardError extends Error {}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function codesOf(value: unknown, field: string): Partial<Record<FailureCode, number>> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ShardError(`${field} is not an object of failure codes and counts`);
    }
    for (const [code, n] of Object.entries(value)) {
        if (!(code in FAILURE_CODES) || !isCount(n)) {
            throw new ShardError(
                `${field}.${code}: expected a known failure code with a whole count, got ${JSON.stringify(n)}`,
            );
        }
    }
    return value;
}

function countersOf(value: unknown): Record<Counter, number> {
    const given = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    for (const name of COUNTERS) {
        if (!isCount(given[name])) {
            throw new ShardError(
                `counters.${name}: expected a whole number of 0 or more, got ${JSON.stringify(given[name])}`,
            );
        }
    }
    if (given.handshakesOpened! > given.handshakesAttempted! || given.checksPassed! > given.checkRuns!) {
        throw new ShardError("counters: more handshakes opened than attempted, or more checks passed than run");
    }
    return given as Record<Counter, number>;
}

function histogramsOf(value: unknown): Record<HistogramName, Histogram> {
    const given = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    return Object.fromEntries(
        HISTOGRAMS.map((name) => {
            const text = given[name];
            if (typeof text !== "string" || !/^[A-Za-z0-9+/=]+$/.test(text)) {
                throw new ShardError(`histograms.${name}: expected HDR compressed base64 text`);
            }
            try {
                return [name, mergeHistograms([decodeHistogram(text)])];
            } catch (e) {
                throw new ShardError(`histograms.${name}: not an HDR histogram (${(e as Error).message})`);
            }
        }),
    ) as Record<HistogramName, Histogram>;
}

/** A shard's tally and target, from the text of its file. */
export function parseShard(text: string): { tally: Tally; target: string } {
    let data: Record<string, unknown>;
    try {
        data = JSON.parse(text) as Record<string, unknown>;
    } catch {
        throw new ShardError("is not JSON");
    }
    if (typeof data !== "object" || data === null || data.format !== SHARD_FORMAT) {
        throw new ShardError(`is not a ws-validate shard (no "format": "${SHARD_FORMAT}"); --shard-out writes one`);
    }
    if (data.version !== SHARD_VERSION) {
        throw new ShardError(
            `has format version ${JSON.stringify(data.version)}; this ws-validate reads version ${SHARD_VERSION}`,
        );
    }
    return {
        target: typeof data.target === "string" ? data.target : "?",
        tally: {
            counters: countersOf(data.counters),
            failuresByCode: codesOf(data.failuresByCode, "failuresByCode"),
            loadFailuresByCode: codesOf(data.loadFailuresByCode, "loadFailuresByCode"),
            histograms: histogramsOf(data.histograms),
            scenario: data.scenario === true,
            interrupted: data.interrupted === true,
        },
    };
}
