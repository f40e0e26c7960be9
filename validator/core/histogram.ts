// Latencies as HDR histograms rather than sorted arrays: a histogram costs the same at 100 samples
// or 100 million, and two of them add bucket by bucket, so shards from several machines merge into
// exactly the histogram one machine would have recorded (averaging their p95s would not).
import * as hdr from "hdr-histogram-js";
import type { Distribution } from "./stats";

/**
 * Values are recorded in whole microseconds with 3 significant digits: a reported percentile is
 * the top of its bucket, at most 1/1024 (under 0.1 %) above the sample it stands for, and never
 * below it. These settings are part of the shard format: a shard written with others would still
 * decode (the encoding carries them) but its percentiles would have another precision.
 */
export const HISTOGRAM_PRECISION = {
    significantDigits: 3,
    unit: "microseconds",
    /** Up to an hour in microseconds; a larger sample is clamped to it (a handshake never waits that long). */
    highestMicros: 3_600_000_000,
} as const;

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
    return hdr.build({
        bitBucketSize: 64,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HISTOGRAM_PRECISION.highestMicros,
        numberOfSignificantValueDigits: HISTOGRAM_PRECISION.significantDigits,
        autoResize: false,
        useWebAssembly: false,
    });
}

/** Records a latency given in milliseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
    const micros = Math.round(ms * 1000);
    histogram.recordValue(
        Math.min(HISTOGRAM_PRECISION.highestMicros, Math.max(0, Number.isFinite(micros) ? micros : 0)),
    );
}

/** The p-th percentile (0..100) in milliseconds; undefined when nothing was recorded. */
export function percentileMs(histogram: Histogram, p: number): number | undefined {
    return histogram.totalCount === 0 ? undefined : histogram.getValueAtPercentile(p) / 1000;
}

/** HDR's own compressed base64 form (what HdrHistogram's Java, Go and Rust libraries decode too). */
export function encodeHistogram(histogram: Histogram): string {
    return hdr.encodeIntoCompressedBase64(histogram);
}

/** A histogram from its compressed base64 form; throws on text that is not one. */
export function decodeHistogram(base64: string): Histogram {
    return hdr.decodeFromCompressedBase64(base64, 64, false);
}

/** A new histogram holding every sample of the given ones. */
export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
    const merged = newHistogram();
    for (const h of histograms) {
        merged.add(h);
    }
    return merged;
}

/** The usual summary of a histogram, in milliseconds. */
export function distributionOf(histogram: Histogram): Distribution {
    return {
        count: histogram.totalCount,
        p50: percentileMs(histogram, 50),
        p95: percentileMs(histogram, 95),
        p99: percentileMs(histogram, 99),
        max: histogram.totalCount === 0 ? undefined : histogram.maxValue / 1000,
    };
}

/** A histogram of latencies given in milliseconds. */
export function histogramOf(valuesMs: readonly number[]): Histogram {
    const histogram = newHistogram();
    for (const ms of valuesMs) {
        recordMs(histogram, ms);
    }
    return histogram;
}
