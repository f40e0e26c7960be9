import { sdkProxy } from "./sdk-proxy";

/** Marks a value that cannot be known during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Maybe<T> = T | typeof UNKNOWN;

/**
 * Reads through the SDK's unknown-checking proxy without failing the whole rule: for the
 * questions where "unknown" has a safe answer of its own.
 */
export function peek<T>(read: () => T): Maybe<T> {
    // Without stack traces: an unknown is an answer here, and a 1,000-backend stack reads
    // thousands of them, each an error that records where it was made.
    try {
        return withoutStackTraces(read);
    } catch (e) {
        if (e instanceof sdkProxy.UnknownValueError) {
            return UNKNOWN;
        }
    }
    // Anything else is a bug in the read, which only reads: again, so its error says where.
    return read();
}

/**
 * Runs `body` with errors recording no stack trace, for errors the pack makes by the thousand
 * and only reads the message or type of.
 */
export function withoutStackTraces<T>(body: () => T): T {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return body();
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/** Whether a property is set at all; true for unknown values, and never throws. */
export function isSet(props: object, key: string): boolean {
    if (!Object.prototype.hasOwnProperty.call(props, key)) {
        return false;
    }
    return peek(() => (props as Record<string, unknown>)[key]) !== undefined;
}

/** Arrays of objects, as resource properties hold them; a missing list is empty. */
export function list(value: unknown): Record<string, unknown>[] {
    return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
}

export function record(value: unknown): Record<string, unknown> | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
}

/** Parses a Cloud Run duration such as "300s" or "3600.5s". */
export function durationSeconds(value: unknown): number | undefined {
    if (typeof value === "number") {
        return value;
    }
    const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
    return match ? Number(match[1]) : undefined;
}

/** `routeAction.timeout` ({seconds: "86400", nanos}) as seconds. */
export function routeTimeoutSeconds(timeout: unknown): number | undefined {
    const t = record(timeout);
    if (!t) {
        return undefined;
    }
    return Number(t.seconds ?? 0) + Number(t.nanos ?? 0) / 1e9;
}

/** The last segment of a resource id, self link or name. */
export function lastSegment(link: string): string {
    return link.split("?")[0].split("/").filter(Boolean).pop() ?? link;
}

/** A copy of a resource's properties with changes applied, without tripping the unknown-checking proxy. */
export function patched(props: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
    const target = props[sdkProxy.getSpecialProxyTarget] as Record<string, unknown> | undefined;
    return { ...(target ?? props), ...changes };
}
