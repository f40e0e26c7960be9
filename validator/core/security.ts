import { performance } from "perf_hooks";
import { Failure, failure } from "./codes";
import { closeSocket, ConnectOptions, Opened, openSocket, Refused, SocketPool } from "./connect";
import { endpointUrl } from "./probe";

// The edge's two defences in front of the sockets, proven from outside: an upgrade from a foreign
// Origin is refused, and handshakes from one source past the declared rate are refused. Both
// judge what the front answers the upgrade with; what sits behind it is not their business.

/** A foreign origin no browser can be on: `.invalid` is reserved for exactly that (RFC 2606). */
export const FOREIGN_ORIGIN = "https://cross-site.invalid";

export interface OriginCheckOptions {
    readonly path: string;
    /** The origin the stack allows; its upgrade must succeed. */
    readonly allowedOrigin: string;
    readonly foreignOrigin: string;
    readonly expectStatus: number;
}

export interface RateLimitCheckOptions {
    readonly path: string;
    /** The declared limit: `count` handshakes per `windowSec` from one source. */
    readonly count: number;
    readonly windowSec: number;
    readonly expectStatus: number;
}

export interface SecurityCheckResult {
    readonly check: "origin" | "rate-limit";
    readonly path: string;
    readonly verdict: "pass" | "fail";
    readonly summary: string;
    readonly failures: Failure[];
    /** rate-limit: the handshake (1-based) the limit first refused, if it did. */
    readonly limitBitAt?: number;
    /** rate-limit: handshakes sent, and how long they took. */
    readonly handshakes?: number;
    readonly elapsedSec?: number;
}

type CheckConnect = ConnectOptions & { readonly sockets: SocketPool; readonly signal?: AbortSignal };

function statusOf(result: Opened | Refused): string {
    return result.ok ? "101" : `${result.failure.evidence.status ?? result.failure.code}`;
}

/** Closes of the sockets a check opened, awaited before it returns so none outlives it. */
type Closing = Promise<void>[];

async function handshake(
    url: string,
    options: CheckConnect,
    origin: string | undefined,
    closing: Closing,
): Promise<Opened | Refused> {
    const result = await openSocket(url, { ...options, origin, totalTimeOnly: true });
    if (result.ok) {
        // Only the answer to the upgrade matters: the close goes on while the next handshake starts.
        closing.push(closeSocket(result.ws, 500));
    }
    return result;
}

function verdictOf(
    check: SecurityCheckResult["check"],
    path: string,
    failures: Failure[],
    passed: string,
): SecurityCheckResult {
    return {
        check,
        path,
        verdict: failures.length === 0 ? "pass" : "fail",
        summary: failures.length === 0 ? passed : failures.map((f) => f.message).join("; "),
        failures,
    };
}

/** A foreign Origin must get the expected refusal; the allowed one must get its 101. */
export async function checkOrigin(
    baseUrl: string,
    check: OriginCheckOptions,
    options: CheckConnect,
): Promise<SecurityCheckResult> {
    const url = endpointUrl(baseUrl, check.path);
    const failures: Failure[] = [];
    const closing: Closing = [];
    const foreign = await handshake(url, options, check.foreignOrigin, closing);
    if (foreign.ok) {
        failures.push(
            failure("ORIGIN_NOT_REFUSED", `an upgrade from Origin ${check.foreignOrigin} was accepted (101)`, {
                status: 101,
                expected: String(check.expectStatus),
                received: "101",
            }),
        );
    } else if (foreign.failure.evidence.status !== check.expectStatus) {
        const seen = statusOf(foreign);
        failures.push(
            foreign.failure.evidence.status === undefined
                ? foreign.failure
                : failure(
                      "ORIGIN_WRONG_STATUS",
                      `an upgrade from Origin ${check.foreignOrigin} got ${seen}, expected ${check.expectStatus}`,
                      { ...foreign.failure.evidence, expected: String(check.expectStatus), received: seen },
                  ),
        );
    }
    const allowed = await handshake(url, options, check.allowedOrigin, closing);
    await Promise.all(closing);
    if (!allowed.ok && allowed.failure.evidence.status === undefined) {
        // No HTTP answer at all: the transport's own code says more than a verdict on Origin.
        failures.push(allowed.failure);
    } else if (!allowed.ok) {
        failures.push(
            failure(
                "ORIGIN_ALLOWED_REFUSED",
                `an upgrade from the allowed Origin ${check.allowedOrigin} got ${statusOf(allowed)} (${allowed.failure.code}), expected 101`,
                { ...allowed.failure.evidence, expected: "101", received: statusOf(allowed) },
            ),
        );
    }
    return verdictOf(
        "origin",
        check.path,
        failures,
        `Origin ${check.foreignOrigin} refused with ${check.expectStatus}, ${check.allowedOrigin} accepted`,
    );
}

/** Handshakes past the limit a check sends before it calls the limit absent: "about N" allows for the edge's counting. */
function rateLimitBudget(count: number): number {
    return count * 2 + 2;
}

/**
 * Opens handshakes one after another from this one source until one is refused or the budget is
 * spent, then judges the refusal's status. Reports at which handshake the limit bit.
 */
export async function checkRateLimit(
    baseUrl: string,
    check: RateLimitCheckOptions,
    options: CheckConnect,
): Promise<SecurityCheckResult> {
    const url = endpointUrl(baseUrl, check.path);
    const budget = rateLimitBudget(check.count);
    const started = performance.now();
    let sent = 0;
    let refused: Refused | undefined;
    const closing: Closing = [];
    while (sent < budget && !options.signal?.aborted) {
        const result = await handshake(url, options, options.origin, closing);
        sent += 1;
        if (!result.ok) {
            refused = result;
            break;
        }
    }
    const elapsedSec = (performance.now() - started) / 1000;
    await Promise.all(closing);
    const declared = `${check.count} per ${check.windowSec} s`;
    const failures: Failure[] = [];
    if (!refused) {
        const slow =
            elapsedSec > check.windowSec
                ? `; they took ${elapsedSec.toFixed(1)} s, longer than the window, so the rate stayed under the limit`
                : "";
        if (!options.signal?.aborted) {
            failures.push(
                failure(
                    "RATE_LIMIT_NOT_ENFORCED",
                    `all ${sent} handshakes were accepted against a declared limit of ${declared}${slow}`,
                    { expected: `${check.expectStatus} by handshake ${budget}`, received: "101", elapsedSec },
                ),
            );
        }
    } else if (refused.failure.evidence.status === undefined) {
        failures.push(refused.failure);
    } else if (refused.failure.evidence.status !== check.expectStatus) {
        const seen = statusOf(refused);
        failures.push(
            failure(
                "RATE_LIMIT_WRONG_STATUS",
                `handshake ${sent} was refused with ${seen}, expected ${check.expectStatus}`,
                { ...refused.failure.evidence, expected: String(check.expectStatus), received: seen, elapsedSec },
            ),
        );
    }
    const result = verdictOf(
        "rate-limit",
        check.path,
        failures,
        `the limit bit at handshake ${sent} (declared ${declared}) with ${check.expectStatus}, after ${elapsedSec.toFixed(1)} s`,
    );
    return { ...result, limitBitAt: refused ? sent : undefined, handshakes: sent, elapsedSec };
}
