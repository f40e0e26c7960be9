import { performance } from "perf_hooks";
import { sleep as wait } from "../../../cli/kit";
import { boundedDurationMs } from "../duration";
import type { Located, Standalone, StepParse, StepRun } from "./step";

export interface SleepStep extends Located {
    readonly kind: "sleep";
    readonly ms: number;
}

function parse(body: unknown, p: StepParse): Omit<SleepStep, "kind" | "line"> {
    return { ms: boundedDurationMs(body, [...p.at], p.fail) };
}

/** Waits, failing if the connection (when there is one) closes meanwhile. */
async function run(s: SleepStep, r: StepRun) {
    const until = r.started + s.ms;
    const expected = `the connection to stay open for ${s.ms} ms`;
    const signal = r.options.signal;
    while (performance.now() < until && !signal?.aborted) {
        const closed = r.connection?.closed;
        if (closed) {
            const into = ((performance.now() - r.started) / 1000).toFixed(1);
            const message = `the connection closed (code ${closed.code}) ${into} s into a ${s.ms / 1000} s sleep`;
            return r.failed("UNEXPECTED_CLOSE", message, expected);
        }
        await (r.connection ? r.connection.next(until, signal) : wait(until - performance.now(), signal));
    }
    if (signal?.aborted && performance.now() < until) {
        const into = ((performance.now() - r.started) / 1000).toFixed(1);
        return r.failed("INTERRUPTED", `stopped by an interrupt ${into} s into a ${s.ms / 1000} s sleep`, expected);
    }
    const closed = r.connection?.closed;
    return closed ? r.closedEarly(closed, expected) : undefined;
}

export const sleep: Standalone<SleepStep> = { needsConnection: false, parse, run };
