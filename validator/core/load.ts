import { performance } from "perf_hooks";
import WebSocket from "ws";
import { FailureCode } from "./codes";
import { closeSockets, OpenOptions, Opened, Refused, startSocket } from "./connect";
import { sleep } from "../../cli/kit";
import type { Distribution } from "./stats";
import { distributionOf, Histogram, newHistogram, recordMs } from "./histogram";

export interface LoadOptions extends OpenOptions {
    readonly connections: number;
    /** New connections per second. */
    readonly rate: number;
    /** Seconds to keep all of them open once the last one opened. */
    readonly holdSec: number;
    /** Source addresses the connections take in turn (--local-address); the system picks one when absent. */
    readonly localAddresses?: readonly string[];
    /** Ctrl-C: open no more, stop holding, close what is open and report. */
    readonly signal?: AbortSignal;
    /** Called once as the load starts with its counts, a live view for a progress line to read. */
    readonly onProgress?: (counts: LoadCounts) => void;
}

export interface LoadCounts {
    readonly opened: number;
    /** Opened and still open: counted when read. */
    readonly held: number;
    readonly requested: number;
}

export interface LoadResult {
    /** Connections asked for (--connections). */
    readonly asked: number;
    /** Connections started: all that were asked, unless an interrupt stopped the load. */
    readonly requested: number;
    readonly opened: number;
    readonly refused: number;
    /** Opened connections still up when the validator closed them. */
    readonly survived: number;
    readonly cut: number;
    readonly openSec: number;
    readonly achievedRatePerSec: number;
    readonly handshakeMs: Distribution;
    /** Every handshake's time, for the HTML report's chart (the JSON report leaves it out). */
    readonly handshakeSamples: number[];
    /** The same times as an HDR histogram: the percentiles above, and what a shard carries. */
    readonly handshakeHistogram: Histogram;
    readonly failuresByCode: Partial<Record<FailureCode, number>>;
    /** Ctrl-C stopped it: `requested` is what was attempted by then. */
    readonly interrupted?: boolean;
}

/** What a load's opening phase gathered: the sockets that opened, every handshake's time, the refusals. */
export interface Opening {
    readonly sockets: WebSocket[];
    readonly samples: number[];
    readonly histogram: Histogram;
    readonly failuresByCode: Partial<Record<FailureCode, number>>;
    /** Connections started (fewer than asked when the signal stopped it). */
    attempted: number;
}

export function newOpening(): Opening {
    return { sockets: [], samples: [], histogram: newHistogram(), failuresByCode: {}, attempted: 0 };
}

/** Opens `connections` sockets at `rate` per second across the endpoints, holds them, closes them all. */
export async function runLoad(urls: readonly string[], options: LoadOptions): Promise<LoadResult> {
    const opening = newOpening();
    const { sockets, samples, failuresByCode } = opening;
    const started = performance.now();
    // What is still open is counted when asked (a progress line reads it twice a second, the
    // report once) rather than kept up by a second close listener on every socket: that costs
    // each connection 125 bytes, measured, beside the pool's listener it already has. Once the
    // validator closes them, what it held stays the count.
    let heldAtClose: number | undefined;
    options.onProgress?.({
        get opened() {
            return sockets.length;
        },
        get held() {
            return heldAtClose ?? openIn(sockets);
        },
        requested: options.connections,
    });
    await openConnections(urls, options, opening, started);
    const openSec = (performance.now() - started) / 1000;
    if (options.holdSec > 0) {
        await sleep(options.holdSec * 1000, options.signal);
    }
    const opened = sockets.length;
    // Cut: closed by the other side, or closing, before the validator closed it.
    const survived = (heldAtClose = openIn(sockets));
    await closeSockets(sockets, 2000);
    return {
        asked: options.connections,
        requested: opening.attempted,
        opened,
        refused: opening.attempted - opened,
        survived,
        cut: opened - survived,
        openSec,
        achievedRatePerSec: opening.attempted / openSec,
        handshakeMs: distributionOf(opening.histogram),
        handshakeSamples: samples,
        handshakeHistogram: opening.histogram,
        failuresByCode,
        interrupted: options.signal?.aborted === true ? true : undefined,
    };
}

/**
 * A load's opening phase on its own: starts `connections` handshakes paced at `rate` from
 * `started` (a performance.now()), adds what they give to `opening`, and resolves once every one
 * has settled. runLoad holds and closes what it opened; bench/validator-handshake-cost.ts times
 * this phase in turns with a plain ws client's in one process.
 */
export async function openConnections(
    urls: readonly string[],
    options: Pick<LoadOptions, "connections" | "rate" | "signal" | "localAddresses"> & OpenOptions,
    opening: Opening,
    started = performance.now(),
): Promise<void> {
    const { sockets, samples, histogram, failuresByCode } = opening;
    // One callback for every connection rather than a promise, a continuation and a closure
    // each: a load run makes thousands.
    let inFlight = 0;
    let starting = true;
    let allSettled: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    const onResult = (opened: Opened | Refused) => {
        samples.push(opened.timings.totalMs);
        recordMs(histogram, opened.timings.totalMs);
        if (!opened.ok) {
            failuresByCode[opened.failure.code] = (failuresByCode[opened.failure.code] ?? 0) + 1;
        } else {
            sockets.push(opened.ws);
        }
        inFlight -= 1;
        if (inFlight === 0 && !starting) {
            allSettled();
        }
    };
    // A load run reports each handshake's total time only (its distribution), never the phases.
    // One options object per source address, made once: ws's client options are built per object.
    // A load's sockets offer no compression: they send nothing, and a socket that negotiated
    // permessage-deflate keeps its own zlib state (the probes still offer it, so the report
    // says whether the path lets it through).
    const socketOptions: OpenOptions[] = (options.localAddresses ?? [undefined]).map((localAddress) => ({
        ...options,
        totalTimeOnly: true,
        perMessageDeflate: false,
        localAddress,
    }));
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
        opening.attempted += 1;
        inFlight += 1;
        startSocket(urls[i % urls.length], socketOptions[i % socketOptions.length], onResult);
    }
    starting = false;
    if (inFlight === 0) {
        allSettled();
    }
    await settled;
}

function openIn(sockets: readonly WebSocket[]): number {
    let open = 0;
    for (const ws of sockets) {
        if (ws.readyState === WebSocket.OPEN) {
            open += 1;
        }
    }
    return open;
}
