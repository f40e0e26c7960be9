import { performance } from "perf_hooks";
import type { Connection } from "../connection";
import type { Located, OnConnection, Raw, StepParse, StepRun } from "./step";

export interface CloseStep extends Located {
    readonly kind: "close";
    readonly code?: number;
    readonly reason?: string;
    readonly expect?: number;
    readonly withinMs: number;
}

function parse(body: unknown, p: StepParse): Omit<CloseStep, "kind" | "line"> {
    const b = (body ?? {}) as Raw;
    p.connected = false;
    return {
        code: b.code as number | undefined,
        reason: b.reason as string | undefined,
        expect: b.expect as number | undefined,
        withinMs: p.withinMs,
    };
}

function wants(s: CloseStep): string {
    const wanted = s.expect ?? s.code;
    const who = s.code === undefined ? "the server to close" : `an answer to close ${s.code}`;
    return `${who}${wanted === undefined ? "" : ` with code ${wanted}`} within ${s.withinMs} ms`;
}

/** Closes the connection (or waits for the server to) and holds the close code to the step's. */
async function run(s: CloseStep, r: StepRun, c: Connection) {
    const deadline = r.started + s.withinMs;
    if (s.code !== undefined && !c.closed) {
        c.ws.close(s.code, s.reason);
    }
    while (!c.closed) {
        if (performance.now() >= deadline) {
            c.ws.terminate();
            return r.failed("STEP_TIMEOUT", `the connection did not close within ${s.withinMs} ms`, wants(s));
        }
        await c.next(deadline);
    }
    r.connection = undefined;
    const wanted = s.expect ?? s.code;
    const { code, reason } = c.closed;
    if (wanted !== undefined && code !== wanted) {
        return r.failed("STEP_MISMATCH", `closed with code ${code}, expected ${wanted}`, wants(s), {
            closeCode: code,
            closeReason: reason || undefined,
        });
    }
    return undefined;
}

export const close: OnConnection<CloseStep> = { needsConnection: true, parse, run };
