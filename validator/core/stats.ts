/** Nearest-rank percentile (p in 0..100) of a sample; undefined when there is none. */
export function percentile(values: readonly number[], p: number): number | undefined {
    if (values.length === 0) {
        return undefined;
    }
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
}

export interface Distribution {
    readonly count: number;
    readonly p50?: number;
    readonly p95?: number;
    readonly p99?: number;
    readonly max?: number;
}

export function distribution(values: readonly number[]): Distribution {
    return {
        count: values.length,
        p50: percentile(values, 50),
        p95: percentile(values, 95),
        p99: percentile(values, 99),
        max: values.length ? Math.max(...values) : undefined,
    };
}

export function round(value: number | undefined, digits = 1): number | undefined {
    return value === undefined ? undefined : Number(value.toFixed(digits));
}
