import { performance } from "perf_hooks";
import type { Connection } from "../connection";
import type { Located, OnConnection, StepRun } from "./step";

export interface PingStep extends Located {
    readonly kind: "ping";
    readonly withinMs: number;
}

const wants = (s: PingStep) => `a pong within ${s.withinMs} ms`;

/** Sends a ping and waits for its pong. */
async function run(s: PingStep, r: StepRun, c: Connection) {
    const deadline = r.started + s.withinMs;
    if (c.closed) {
        return r.closedEarly(c.closed, wants(s));
    }
    const before = c.pongs;
    c.ws.ping();
    while (c.pongs === before) {
        if (c.closed) {
            return r.closedEarly(c.closed, wants(s));
        }
        if (performance.now() >= deadline) {
            return r.failed("STEP_TIMEOUT", `no pong within ${s.withinMs} ms`, wants(s));
        }
        await c.next(deadline);
    }
    return undefined;
}

export const ping: OnConnection<PingStep> = {
    needsConnection: true,
    parse: (_, p) => ({ withinMs: p.withinMs }),
    run,
};
