import { performance } from "perf_hooks";
import WebSocket from "ws";
import { FailureCode } from "./codes";
import { closeSockets, OpenOptions, Opened, Refused, startSocket } from "./connect";
import { sleep } from "../cli/kit";
import { distribution, Distribution } from "./stats";

export interface LoadOptions extends OpenOptions {
    readonly connections: number;
    /** New connections per second. */
    readonly rate: number;
    /** Seconds to keep all of them open once the last one opened. */
    readonly holdSec: number;
    /** Ctrl-C: open no more, stop holding, close what is open and report. */
    readonly signal?: AbortSignal;
    /** Counts so far, for a progress line. */
    readonly onProgress?: (counts: { opened: number; held: number; requested: number }) => void;
}

export interface LoadResult {
    readonly requested: number;
    readonly opened: number;
    readonly refused: number;
    /** Opened connections still up when the validator closed them. */
    readonly survived: number;
    readonly cut: number;
    readonly openSec: number;
    readonly achievedRatePerSec: number;
    readonly handshakeMs: Distribution;
    readonly handshakeSamples: number[];
    readonly failuresByCode: Partial<Record<FailureCode, number>>;
    /** Ctrl-C stopped it: `requested` is what was attempted by then. */
    readonly interrupted?: boolean;
}

/** Opens `connections` sockets at `rate` per second across the endpoints, holds them, closes them all. */
export async function runLoad(urls: readonly string[], options: LoadOptions): Promise<LoadResult> {
    const sockets: WebSocket[] = [];
    const samples: number[] = [];
    const failuresByCode: Partial<Record<FailureCode, number>> = {};
    let cut = 0;
    let closing = false;
    const started = performance.now();
    const report = () => options.onProgress?.({ opened: sockets.length, held: sockets.length - cut, requested: options.connections });
    // One callback and one close listener for every connection rather than a promise, a
    // continuation and a closure each: a load run makes thousands.
    const onClose = () => {
        if (!closing) {
            cut += 1;
            report();
        }
    };
    let inFlight = 0;
    let starting = true;
    let allSettled: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    const onResult = (opened: Opened | Refused) => {
        samples.push(opened.timings.totalMs);
        if (!opened.ok) {
            failuresByCode[opened.failure.code] = (failuresByCode[opened.failure.code] ?? 0) + 1;
        } else {
            sockets.push(opened.ws);
            opened.ws.on("close", onClose);
            report();
        }
        inFlight -= 1;
        if (inFlight === 0 && !starting) {
            allSettled();
        }
    };
    // A load run reports each handshake's total time only (its distribution), never the phases.
    const socketOptions: OpenOptions = { ...options, totalTimeOnly: true };
    let attempted = 0;
    for (let i = 0; i < options.connections && !options.signal?.aborted; i++) {
        // Pace against the clock rather than sleeping a fixed step, so slow turns catch up.
        const due = started + (i * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 1) {
            await sleep(wait, options.signal);
            if (options.signal?.aborted) {
                break;
            }
        }
        attempted += 1;
        inFlight += 1;
        startSocket(urls[i % urls.length], socketOptions, onResult);
    }
    starting = false;
    if (inFlight === 0) {
        allSettled();
    }
    await settled;
    const openSec = (performance.now() - started) / 1000;
    if (options.holdSec > 0) {
        await sleep(options.holdSec * 1000, options.signal);
    }
    closing = true;
    const opened = sockets.length;
    await closeSockets(sockets, 2000);
    return {
        requested: attempted,
        opened,
        refused: attempted - opened,
        survived: opened - cut,
        cut,
        openSec,
        achievedRatePerSec: attempted / openSec,
        handshakeMs: distribution(samples),
        handshakeSamples: samples,
        failuresByCode,
        interrupted: options.signal?.aborted === true ? true : undefined,
    };
}
