import { randomBytes } from "crypto";
import { performance } from "perf_hooks";
import WebSocket from "ws";
import { plural } from "../../cli/suggest";
import { closeCause, Failure, failure, FAILURE_CODES } from "./codes";
import { closeSocket, ConnectOptions, HandshakeTimings, openSocket, SocketPool } from "./connect";
import { VALIDATION_DEFAULTS } from "./defaults";
import type { Distribution } from "./stats";
import { distributionOf, histogramOf } from "./histogram";

export type HoldMode = "idle" | "ping" | "both";

/** Options of a probe inside a run: the run's socket pool besides the settings. */
type Pooled<T> = T & { readonly sockets: SocketPool };

export interface ProbeOptions extends ConnectOptions {
    /** Messages to echo; 0 or echo off skips the round trip. */
    readonly messages: number;
    readonly echo: boolean;
    readonly messageTimeoutMs: number;
    /** Seconds to hold a connection; 0 skips the hold. */
    readonly holdSec: number;
    readonly holdMode: HoldMode;
    readonly pingIntervalSec: number;
    /** Ping mode: missed pongs in a row that fail a hold (PING_TIMEOUT); VALIDATION_DEFAULTS' when absent. */
    readonly maxMissedPongs?: number;
    /** Ctrl-C: a hold ends at once, reported as interrupted (neither held nor cut). */
    readonly signal?: AbortSignal;
}

interface HandshakeResult {
    readonly ok: boolean;
    readonly status?: number;
    readonly timings: HandshakeTimings;
    readonly protocol?: string;
    readonly extensions?: string;
}

export interface RoundTripResult {
    readonly sent: number;
    readonly received: number;
    readonly latencyMs: Distribution;
    /** Raw latencies, for run-wide percentiles. */
    readonly samples: number[];
}

export interface HoldResult {
    readonly mode: "idle" | "ping";
    readonly survived: boolean;
    readonly elapsedSec: number;
    readonly closeCode?: number;
    readonly closeReason?: string;
    readonly pongs: number;
    /** Ping mode: pings sent. */
    readonly pings?: number;
    /** Ping mode: the peer stopped answering pings, and the hold gave up on it. */
    readonly pingTimeout?: boolean;
    /** What ws said when it closed the connection itself (a broken or oversize frame), and its code. */
    readonly error?: string;
    readonly errorCode?: string;
    readonly handshake: HandshakeResult;
    /** Ctrl-C ended the hold before its time: `survived` says only that it was not cut. */
    readonly interrupted?: boolean;
}

export type Diagnosis =
    | "held"
    | "idle-timeout"
    | "lifetime-cap"
    | "cut"
    | "no-pong"
    | "protocol-error"
    | "server-error"
    | "not-run"
    | "interrupted";

export interface EndpointResult {
    readonly endpoint: string;
    readonly url: string;
    readonly handshake: HandshakeResult;
    readonly roundTrip?: RoundTripResult;
    readonly holds: HoldResult[];
    readonly diagnosis: Diagnosis;
    readonly diagnosisText: string;
    readonly failures: Failure[];
}

/** Sends messages one at a time and times each echo. */
export async function roundTrip(
    ws: WebSocket,
    count: number,
    timeoutMs: number,
): Promise<{ result: RoundTripResult; failure?: Failure }> {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
        const payload = `ws-validate ${i} ${randomBytes(6).toString("hex")}`;
        const outcome = await new Promise<{ ms: number } | Failure>((resolve) => {
            const sentAt = performance.now();
            const timer = setTimeout(
                () =>
                    done(
                        failure("ECHO_TIMEOUT", `message ${i + 1} of ${count} got no echo within ${timeoutMs} ms`, {
                            expected: payload,
                        }),
                    ),
                timeoutMs,
            );
            const onMessage = (data: WebSocket.RawData) => {
                // binaryType stays "nodebuffer", so ws delivers each message as one Buffer.
                const text = (data as Buffer).toString();
                done(
                    text === payload
                        ? { ms: performance.now() - sentAt }
                        : failure("ECHO_MISMATCH", `message ${i + 1} came back different`, {
                              expected: payload,
                              received: text.slice(0, 200),
                          }),
                );
            };
            const onClose = (code: number, reason: Buffer) =>
                done(
                    failure("ECHO_TIMEOUT", `the connection closed while waiting for echo ${i + 1}`, {
                        closeCode: code,
                        closeReason: reason.toString() || undefined,
                    }),
                );
            const done = (value: { ms: number } | Failure) => {
                clearTimeout(timer);
                ws.off("message", onMessage);
                ws.off("close", onClose);
                resolve(value);
            };
            ws.on("message", onMessage);
            ws.once("close", onClose);
            ws.send(
                payload,
                (err) => err && done(failure("ECHO_TIMEOUT", `message ${i + 1} could not be sent: ${err.message}`)),
            );
        });
        if ("code" in outcome) {
            return {
                result: {
                    sent: i + 1,
                    received: samples.length,
                    latencyMs: distributionOf(histogramOf(samples)),
                    samples,
                },
                failure: outcome,
            };
        }
        samples.push(outcome.ms);
    }
    return {
        result: { sent: count, received: samples.length, latencyMs: distributionOf(histogramOf(samples)), samples },
    };
}

/** How one hold runs: its length, its mode and, in ping mode, when a silent peer counts as dead. */
interface HoldSettings {
    readonly holdSec: number;
    readonly mode: "idle" | "ping";
    readonly pingIntervalSec: number;
    /** Ping mode: the hold fails once this many pings in a row got no pong by the next ping. */
    readonly maxMissedPongs: number;
    readonly signal?: AbortSignal;
}

/**
 * Keeps one open connection for `holdSec` and reports how it ended. In ping mode it pings every
 * `pingIntervalSec`: traffic that resets an idle timeout but not a lifetime cap, and a question
 * only a live peer answers (RFC 6455 5.5.2: a ping is answered with a pong as soon as practical).
 */
function hold(ws: WebSocket, openedAt: number, settings: HoldSettings): Promise<Omit<HoldResult, "handshake">> {
    const { holdSec, mode, pingIntervalSec, maxMissedPongs, signal } = settings;
    return new Promise((resolve) => {
        let pings = 0;
        let pongs = 0;
        let awaitingPong = false;
        let missedInARow = 0;
        let error: (Error & { code?: string }) | undefined;
        const age = () => (performance.now() - openedAt) / 1000;
        let ended = false;
        const end = (outcome: Partial<HoldResult> & { survived: boolean }) => {
            ended = true;
            cleanup();
            resolve({ mode, elapsedSec: age(), pongs, pings: mode === "ping" ? pings : undefined, ...outcome });
        };
        const onTick = () => {
            if (ended || ws.readyState !== WebSocket.OPEN) {
                return;
            }
            missedInARow = awaitingPong ? missedInARow + 1 : 0;
            if (missedInARow >= maxMissedPongs) {
                end({ survived: false, pingTimeout: true });
                return;
            }
            ws.ping();
            pings += 1;
            awaitingPong = true;
        };
        // Judged after the loop's I/O phase: on a busy machine a pong already read off the socket
        // is counted before the tick that would miss it.
        const pinger = mode === "ping" ? setInterval(() => setImmediate(onTick), pingIntervalSec * 1000) : undefined;
        const onPong = () => {
            pongs += 1;
            awaitingPong = false;
        };
        // ws reports a broken frame as an error, then closes with 1002 or 1009: keep what it said.
        const onError = (e: Error) => (error = e);
        ws.on("pong", onPong);
        ws.on("error", onError);
        // Deadline from the connection's age, so the hold ends on time whatever the server does.
        const deadline = setTimeout(
            () => end({ survived: true }),
            Math.max(0, holdSec * 1000 - (performance.now() - openedAt)),
        );
        const onClose = (code: number, reason: Buffer) =>
            end({
                survived: false,
                closeCode: code,
                closeReason: reason.toString() || undefined,
                error: error?.message,
                errorCode: error?.code,
            });
        ws.once("close", onClose);
        const onAbort = () => end({ survived: true, interrupted: true });
        // Frames the server sends are read, not answered: an echo server stays quiet anyway.
        const cleanup = () => {
            signal?.removeEventListener("abort", onAbort);
            clearTimeout(deadline);
            clearInterval(pinger);
            ws.off("pong", onPong);
            ws.off("error", onError);
            ws.off("close", onClose);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        if (signal?.aborted) {
            onAbort();
        }
    });
}

/** A hold that failed for a cause of its own (no pong, a broken frame, a server error): what to say. */
function causeOf(h: HoldResult): { diagnosis: Diagnosis; text: string } | undefined {
    if (h.pingTimeout) {
        return {
            diagnosis: "no-pong",
            text: `the pinging connection got no pong to ${plural(h.pings ?? 0, "ping")} (${plural(h.pongs, "pong")} in all) and was given up at ${h.elapsedSec.toFixed(1)} s: the peer, or a proxy holding the connection for it, no longer answers`,
        };
    }
    const cause = closeCause(h.closeCode, h.errorCode);
    if (cause === undefined) {
        return undefined;
    }
    const said = h.error ?? h.closeReason;
    return {
        diagnosis: cause.code === "SERVER_ERROR" ? "server-error" : "protocol-error",
        text: `the ${h.mode} connection ended with ${cause.closeCode} at ${h.elapsedSec.toFixed(1)} s${said ? ` (${said})` : ""}: ${FAILURE_CODES[cause.code]}`,
    };
}

/** Tells an idle timeout from a lifetime cap by comparing the idle and the pinging connection. */
function diagnose(holds: readonly HoldResult[], holdSec: number): { diagnosis: Diagnosis; text: string } {
    const idle = holds.find((h) => h.mode === "idle" && h.handshake.ok);
    const ping = holds.find((h) => h.mode === "ping" && h.handshake.ok);
    if (!idle && !ping) {
        return {
            diagnosis: "not-run",
            text: holdSec > 0 ? "no hold connection opened" : "hold skipped (a hold of 0 s)",
        };
    }
    const at = (h: HoldResult) => `${h.elapsedSec.toFixed(1)} s (close ${h.closeCode ?? "-"})`;
    const stopped = holds.find((h) => h.interrupted);
    if (stopped && holds.every((h) => h.survived || !h.handshake.ok)) {
        return {
            diagnosis: "interrupted",
            text: `hold stopped by an interrupt after ${stopped.elapsedSec.toFixed(1)} s of ${holdSec} s, not cut until then`,
        };
    }
    const cause = holds.map(causeOf).find((c) => c !== undefined);
    if (cause) {
        return cause;
    }
    if ((!idle || idle.survived) && (!ping || ping.survived)) {
        return {
            diagnosis: "held",
            text: `held ${holdSec} s${idle && ping ? " idle and with pings" : idle ? " idle" : " with pings"}`,
        };
    }
    if (idle && ping) {
        if (!idle.survived && ping.survived) {
            return {
                diagnosis: "idle-timeout",
                text: `idle connection cut at ${at(idle)} while the pinging one held: an idle timeout (such as a proxy's read timeout); pings or traffic keep it open`,
            };
        }
        if (!idle.survived && !ping.survived) {
            const gap = Math.abs(idle.elapsedSec - ping.elapsedSec);
            if (gap <= Math.max(1.5, 0.15 * Math.max(idle.elapsedSec, ping.elapsedSec))) {
                return {
                    diagnosis: "lifetime-cap",
                    text: `both connections cut at the same age (${at(idle)} idle, ${at(ping)} pinging): a lifetime cap such as a load balancer's backend timeout; pings do not help`,
                };
            }
            return {
                diagnosis: "cut",
                text: `cut at different ages (${at(idle)} idle, ${at(ping)} pinging): neither a plain idle timeout nor a lifetime cap`,
            };
        }
        return {
            diagnosis: "cut",
            text: `the pinging connection was cut at ${at(ping)} while the idle one held: the server or a proxy closes on pings`,
        };
    }
    const only = (idle ?? ping)!;
    return {
        diagnosis: "cut",
        text:
            only.mode === "idle"
                ? `cut while idle at ${at(only)}: an idle timeout or a lifetime cap; run --hold-mode both to tell which`
                : `cut at ${at(only)} despite pings: most likely a lifetime cap (run --hold-mode both to confirm)`,
    };
}

function handshakeOf(opened: Awaited<ReturnType<typeof openSocket>>): HandshakeResult {
    return opened.ok
        ? { ok: true, status: 101, timings: opened.timings, protocol: opened.protocol, extensions: opened.extensions }
        : { ok: false, status: opened.failure.evidence.status, timings: opened.timings };
}

async function holdOne(
    url: string,
    options: Pooled<ProbeOptions>,
    mode: "idle" | "ping",
): Promise<{ result: HoldResult; failure?: Failure }> {
    const opened = await openSocket(url, options);
    if (!opened.ok) {
        return {
            result: { mode, survived: false, elapsedSec: 0, pongs: 0, handshake: handshakeOf(opened) },
            failure: opened.failure,
        };
    }
    const outcome = await hold(opened.ws, opened.openedAt, {
        ...options,
        mode,
        maxMissedPongs: options.maxMissedPongs ?? VALIDATION_DEFAULTS.maxMissedPongs,
    });
    if (outcome.pingTimeout) {
        // No close handshake with a peer that answers nothing: it would only wait out its deadline.
        opened.ws.terminate();
    }
    await closeSocket(opened.ws);
    const result = { ...outcome, handshake: handshakeOf(opened) };
    return { result, failure: outcome.survived ? undefined : holdFailure(result, options.holdSec) };
}

/** Why a hold failed: no pong, a close code with a cause of its own, or a plain cut. */
function holdFailure(h: HoldResult, holdSec: number): Failure {
    const after = `${h.elapsedSec.toFixed(1)} s of a ${holdSec} s hold`;
    const evidence = {
        closeCode: h.closeCode,
        closeReason: h.closeReason,
        errorCode: h.errorCode,
        elapsedSec: Number(h.elapsedSec.toFixed(2)),
    };
    if (h.pingTimeout) {
        return failure(
            "PING_TIMEOUT",
            `the ping connection got no pong to its last pings in a row (${plural(h.pings ?? 0, "ping")}, ${plural(h.pongs, "pong")}) after ${after}`,
            { elapsedSec: evidence.elapsedSec, pings: h.pings, pongs: h.pongs },
        );
    }
    const cause = closeCause(h.closeCode, h.errorCode);
    if (cause !== undefined) {
        return failure(
            cause.code,
            `the ${h.mode} connection ended with ${cause.closeCode} after ${after}${h.error ? `: ${h.error}` : ""}`,
            evidence,
        );
    }
    return failure("CUT_BEFORE_HOLD", `the ${h.mode} connection closed after ${after}`, evidence);
}

export function endpointUrl(baseUrl: string, endpoint: string): string {
    return new URL(endpoint, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
}

/** Handshake, round trip and hold for one endpoint; the holds run side by side. */
export async function probeEndpoint(
    baseUrl: string,
    endpoint: string,
    options: Pooled<ProbeOptions>,
): Promise<EndpointResult> {
    const url = endpointUrl(baseUrl, endpoint);
    const failures: Failure[] = [];
    const modes: Array<"idle" | "ping"> =
        options.holdSec <= 0 || options.signal?.aborted
            ? []
            : options.holdMode === "both"
              ? ["idle", "ping"]
              : [options.holdMode];
    const holdsRunning = modes.map((mode) => holdOne(url, options, mode));

    const opened = await openSocket(url, options);
    let roundTripResult: RoundTripResult | undefined;
    if (!opened.ok) {
        failures.push(opened.failure);
    } else {
        if (options.echo && options.messages > 0) {
            const { result, failure: echoFailure } = await roundTrip(
                opened.ws,
                options.messages,
                options.messageTimeoutMs,
            );
            roundTripResult = result;
            if (echoFailure) {
                failures.push(echoFailure);
            }
        }
        await closeSocket(opened.ws);
    }
    const holds = await Promise.all(holdsRunning);
    for (const h of holds) {
        // When the main handshake failed, the hold handshakes failed the same way: report it once.
        const repeatsMainFailure = !opened.ok && h.failure?.code !== "CUT_BEFORE_HOLD";
        if (h.failure && !repeatsMainFailure) {
            failures.push(h.failure);
        }
    }
    const { diagnosis, text } = diagnose(
        holds.map((h) => h.result),
        options.holdSec,
    );
    return {
        endpoint,
        url,
        handshake: handshakeOf(opened),
        roundTrip: roundTripResult,
        holds: holds.map((h) => h.result),
        diagnosis,
        diagnosisText: text,
        failures,
    };
}
