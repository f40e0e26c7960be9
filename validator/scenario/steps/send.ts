import type { Connection } from "../connection";
import { render } from "../template";
import type { Located, OnConnection, Raw, StepParse, StepRun } from "./step";

export interface SendStep extends Located {
    readonly kind: "send";
    readonly text?: string;
    readonly json?: unknown;
}

const WANTS = "an open connection to send on";

function parse(body: unknown, p: StepParse): Omit<SendStep, "kind" | "line"> {
    const b = (body ?? {}) as Raw;
    p.checkTemplates(b, p.at);
    p.sent = true;
    return { text: b.text as string | undefined, json: b.json };
}

async function run(s: SendStep, r: StepRun, c: Connection) {
    if (c.closed) {
        return r.closedEarly(c.closed, WANTS);
    }
    const payload = s.json !== undefined ? render(s.json, r.vars, r.sent) : render(s.text, r.vars, r.sent);
    r.sent = s.json !== undefined ? payload : undefined;
    const text = s.json !== undefined ? JSON.stringify(payload) : String(payload);
    const error = await new Promise<Error | undefined>((resolve) => c.ws.send(text, (e) => resolve(e ?? undefined)));
    return error ? r.failed("UNEXPECTED_CLOSE", `sending failed: ${error.message}`, WANTS) : undefined;
}

export const send: OnConnection<SendStep> = { needsConnection: true, parse, run };
