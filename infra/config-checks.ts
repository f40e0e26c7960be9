import { didYouMean } from "../cli/suggest";
import { pathPatternProblem, wildcardBase } from "../policies/facts";

// The checks config parsing is made of. Each failed check records one problem that names the
// key, the value and what is allowed; parsing goes on, so a user sees every problem at once.

function show(value: unknown): string {
    return value === undefined ? "unset" : JSON.stringify(value);
}

/** Collects every problem so a user fixes them all in one go, then throws once. */
export class Validator {
    readonly problems: string[] = [];

    constructor(private readonly namespace: string) {}

    key(name: string): string {
        return `${this.namespace}:${name}`;
    }

    fail(key: string, value: unknown, allowed: string): void {
        this.problems.push(`${key} is ${show(value)}; ${allowed}`);
    }

    /** Every key of a structured value that is not one of `allowed`, each with the closest known key. */
    knownKeys(at: string, value: Record<string, unknown>, allowed: readonly string[]): void {
        for (const key of Object.keys(value).filter((k) => !allowed.includes(k))) {
            this.fail(
                `${at}.${key}`,
                value[key],
                `unknown key; allowed: ${allowed.join(", ")}${didYouMean(key, allowed)}`,
            );
        }
    }

    integer(key: string, value: unknown, min: number, max: number, why = ""): number {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(key, value, `allowed: an integer from ${min} to ${max}${why}`);
            return min;
        }
        return value;
    }

    flag(key: string, value: unknown): boolean {
        if (typeof value !== "boolean") {
            this.fail(key, value, "allowed: true or false");
            return true;
        }
        return value;
    }

    fraction(key: string, value: unknown): number {
        if (typeof value !== "number" || !(value > 0 && value <= 1)) {
            this.fail(key, value, "allowed: a fraction above 0 and at most 1");
            return 1;
        }
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            this.fail(key, value, `allowed: ${allowed.join(", ")}`);
            return allowed[0];
        }
        return value as T;
    }

    text(key: string, value: unknown, what: string, pattern?: RegExp): string {
        if (typeof value !== "string" || value.length === 0 || (pattern && !pattern.test(value))) {
            this.fail(key, value, `allowed: ${what}`);
            return "";
        }
        return value;
    }

    stringList(key: string, value: unknown, allowEmpty: boolean): string[] {
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string") || (!allowEmpty && value.length === 0)) {
            this.fail(key, value, `allowed: a ${allowEmpty ? "" : "non-empty "}list of strings`);
            return [];
        }
        return value as string[];
    }

    /** URL-map path patterns, each `/x/*` beside its `/x`. */
    paths(key: string, value: unknown, allowEmpty: boolean): string[] {
        const paths = this.stringList(key, value, allowEmpty);
        const seen = new Set<string>();
        for (const path of paths) {
            const problem = pathPatternProblem(path);
            if (problem) {
                this.fail(
                    key,
                    path,
                    `that path ${problem}; allowed: paths that start with / and use * only right after a final / (like /ws/*)`,
                );
            }
            if (seen.has(path)) {
                this.fail(key, path, "that path is listed twice; list each path once");
            }
            seen.add(path);
        }
        for (const path of paths) {
            const base = wildcardBase(path);
            if (base !== undefined && !seen.has(base)) {
                this.fail(
                    key,
                    path,
                    `${path} does not match ${base} itself; add ${JSON.stringify(base)} to the list too`,
                );
            }
        }
        return paths;
    }
}

export function parseJson(raw: string | undefined): unknown {
    if (raw === undefined) {
        return undefined;
    }
    try {
        const value: unknown = JSON.parse(raw);
        // JSON reads 1e400 as Infinity, which would be echoed back as null: the text the user gave is kept.
        return typeof value === "number" && !Number.isFinite(value) ? raw : value;
    } catch {
        // Plain strings are stored unquoted.
        return raw;
    }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An IPv4 CIDR range as [first address, last address], or undefined when it is not one. */
export function cidrRange(cidr: string): [number, number] | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix > 32) {
        return undefined;
    }
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    const first = Math.floor(address / size) * size;
    return [first, first + size - 1];
}
