import { performance } from "perf_hooks";
import { durationMs } from "../duration";
import type { Located, Standalone, StepRun } from "./step";

export interface SleepStep extends Located {
    readonly kind: "sleep";
    readonly ms: number;
}

function parse(body: unknown): Omit<SleepStep, "kind" | "line"> {
    return { ms: durationMs(body as string) };
}

/** Waits, failing if the connection (when there is one) closes meanwhile. */
async function run(s: SleepStep, r: StepRun) {
    const until = r.started + s.ms;
    const expected = `the connection to stay open for ${s.ms} ms`;
    while (performance.now() < until) {
        const closed = r.connection?.closed;
        if (closed) {
            const into = ((performance.now() - r.started) / 1000).toFixed(1);
            const message = `the connection closed (code ${closed.code}) ${into} s into a ${s.ms / 1000} s sleep`;
            return r.failed("UNEXPECTED_CLOSE", message, expected);
        }
        await (r.connection
            ? r.connection.next(until)
            : new Promise((resolve) => setTimeout(resolve, until - performance.now())));
    }
    const closed = r.connection?.closed;
    return closed ? r.closedEarly(closed, expected) : undefined;
}

export const sleep: Standalone<SleepStep> = { needsConnection: false, parse, run };
