import { MAX_WAIT_SEC } from "../core";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A scenario file's duration (`250ms`, `5s`, `1.5m`) in milliseconds. */
function durationMs(text: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(text);
    if (!match) {
        throw new Error(`not a duration: ${text}`);
    }
    return Number(match[1]) * UNITS[match[2]];
}

/**
 * A duration within MAX_WAIT_SEC (beyond it Node's timers would fire at once), or the file's error
 * naming where it is and what is allowed.
 */
export function boundedDurationMs(
    text: unknown,
    at: (string | number)[],
    fail: (at: readonly (string | number)[], message: string) => never,
): number {
    const ms = durationMs(text as string);
    if (ms > MAX_WAIT_SEC * 1000) {
        fail(at, `${JSON.stringify(text)}: expected a duration up to ${MAX_WAIT_SEC / 60}m (${MAX_WAIT_SEC} s)`);
    }
    return ms;
}
