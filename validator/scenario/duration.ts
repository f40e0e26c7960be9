const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A scenario file's duration (`250ms`, `5s`, `1.5m`) in milliseconds. */
export function durationMs(text: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(text);
    if (!match) {
        throw new Error(`not a duration: ${text}`);
    }
    return Number(match[1]) * UNITS[match[2]];
}
