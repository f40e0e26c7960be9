import { FlagError } from "../cli/kit";
import { FOREIGN_ORIGIN, OriginCheckOptions, RateLimitCheckOptions } from "./core";

// The command line's flags for the edge's defences, kept here so validator/cli.ts only spreads them in.

export const SECURITY_FLAGS = {
    "check-origin": { type: "string" },
    "check-rate-limit": { type: "string" },
    "origin-status": { type: "string" },
    "rate-limit-status": { type: "string" },
} as const;

export const SECURITY_USAGE = `      --check-origin ORIGIN   the allowed Origin (such as https://chat.example.com): an upgrade from
                              ${FOREIGN_ORIGIN} must be refused, one from ORIGIN accepted
      --origin-status CODE    the refusal a foreign Origin must get (default 403)
      --check-rate-limit N/WINDOW  the declared handshake limit per source, such as 120/60s: sends
                              handshakes one after another until one is refused (at most 2N+2)
                              and reports at which one the limit bit
      --rate-limit-status CODE  the refusal past the limit must get (default 429)
                              both run on the first endpoint (default /ws) and skip the default
                              probes unless --endpoints is given`;

/** Our bound: the check sends up to 2N+2 handshakes, and 20,002 is already a flood of its own. */
const MAX_COUNT = 10_000;
/** Cloud Armor's longest rate limit interval. */
const MAX_WINDOW_SEC = 3_600;

export interface SecurityChecks {
    readonly origin?: OriginCheckOptions;
    readonly rateLimit?: RateLimitCheckOptions;
}

type Values = Partial<Record<keyof typeof SECURITY_FLAGS, string | boolean | Array<string | boolean>>>;

function status(flag: string, value: unknown, fallback: number): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (typeof value !== "string" || !/^\d{3}$/.test(value) || n < 400 || n > 599) {
        throw new FlagError(`--${flag} ${JSON.stringify(value)}: expected an HTTP error status from 400 to 599`);
    }
    return n;
}

function rateLimit(value: string): { count: number; windowSec: number } {
    const match = /^(\d{1,6})\/(\d{1,5})(s|m)?$/.exec(value);
    const count = Number(match?.[1]);
    const windowSec = Number(match?.[2]) * (match?.[3] === "m" ? 60 : 1);
    if (!match || count < 1 || count > MAX_COUNT || windowSec < 1 || windowSec > MAX_WINDOW_SEC) {
        throw new FlagError(
            `--check-rate-limit ${JSON.stringify(value)}: expected N/WINDOW, N handshakes from 1 to ${MAX_COUNT} per WINDOW of 1 to ${MAX_WINDOW_SEC} seconds, such as 120/60s or 120/1m`,
        );
    }
    return { count, windowSec };
}

/** The checks asked for, on `path`; every flag is checked before anything runs. */
export function securityFlags(values: Values, path: string): SecurityChecks & { readonly replacesProbes: boolean } {
    const text = (name: keyof typeof SECURITY_FLAGS) => (typeof values[name] === "string" ? values[name] : undefined);
    const allowed = text("check-origin");
    if (allowed !== undefined && !/^https?:\/\/[^/\s?#]+$/.test(allowed)) {
        throw new FlagError(
            `--check-origin ${JSON.stringify(allowed)}: expected an origin as browsers send it, scheme://host[:port] with no path, such as https://chat.example.com`,
        );
    }
    const limit = text("check-rate-limit");
    const origin =
        allowed === undefined
            ? undefined
            : {
                  path,
                  allowedOrigin: allowed,
                  foreignOrigin: FOREIGN_ORIGIN,
                  expectStatus: status("origin-status", values["origin-status"], 403),
              };
    const rate =
        limit === undefined
            ? undefined
            : {
                  path,
                  ...rateLimit(limit),
                  expectStatus: status("rate-limit-status", values["rate-limit-status"], 429),
              };
    return { origin, rateLimit: rate, replacesProbes: origin !== undefined || rate !== undefined };
}
