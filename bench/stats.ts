// The statistics every benchmark prints: medians, and for paired ratios an interval saying how
// far the median of this many pairs can be trusted on a noisy host.

export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The 2.5th and 97.5th percentiles of the median of `values` resampled with replacement (a 95 %
 * bootstrap interval). Seeded, so the same figures always print the same interval. With 5 values
 * it is wide by nature: the median of 5 can only be one of them.
 */
export function bootstrapMedian(values: readonly number[], resamples = 2000): [number, number] {
    let seed = 0x9e3779b9;
    const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
    };
    const medians: number[] = [];
    for (let r = 0; r < resamples; r++) {
        medians.push(median(values.map(() => values[Math.floor(random() * values.length)])));
    }
    medians.sort((a, b) => a - b);
    return [medians[Math.floor(resamples * 0.025)], medians[Math.floor(resamples * 0.975)]];
}
