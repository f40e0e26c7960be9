import { closeSocket, endpointUrl, openSocket } from "../../core";
import { Connection } from "../connection";
import type { Located, Raw, Standalone, StepParse, StepRun } from "./step";

export interface ConnectStep extends Located {
    readonly kind: "connect";
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly subprotocol?: string;
    readonly origin?: string;
    /** The HTTP status the upgrade must get: 101, or say 403 for a client without a token. */
    readonly status: number;
    readonly withinMs: number;
}

function parse(body: unknown, p: StepParse): Omit<ConnectStep, "kind" | "line"> {
    const b = (body ?? {}) as Raw;
    p.connected = true;
    const own = b.headers ? p.expandHeaders(b.headers as Record<string, string>, [...p.at, "headers"]) : {};
    return {
        path: (b.path ?? p.defaults.path ?? "/ws") as string,
        headers: { ...(b.noDefaultHeaders ? {} : p.defaultHeaders), ...own },
        subprotocol: (b.subprotocol ?? p.defaults.subprotocol) as string | undefined,
        origin: (b.origin ?? p.defaults.origin) as string | undefined,
        status: (b.status ?? 101) as number,
        withinMs: p.withinMs,
    };
}

/** Opens the run's connection (closing one still open) and holds the upgrade's status to the step's. */
async function run(s: ConnectStep, r: StepRun) {
    if (r.connection && !r.connection.closed) {
        await closeSocket(r.connection.ws);
    }
    r.connection = undefined;
    let pending: Connection | undefined;
    const opened = await openSocket(endpointUrl(r.baseUrl, s.path), {
        ...r.options,
        headers: s.headers,
        origin: s.origin,
        subprotocols: s.subprotocol ? [s.subprotocol] : undefined,
        handshakeTimeoutMs: s.withinMs,
        onSocket: (ws) => (pending = new Connection(ws)),
    });
    const expected = `HTTP ${s.status} to the upgrade of ${s.path} within ${s.withinMs} ms`;
    if (opened.ok) {
        r.connection = pending;
        if (s.status === 101) {
            return undefined;
        }
        const message = `the upgrade of ${s.path} was accepted (101), expected HTTP ${s.status}`;
        return r.failed("UNEXPECTED_STATUS", message, expected, { status: 101 });
    }
    const { status, bodyExcerpt } = opened.failure.evidence;
    if (status === s.status) {
        return undefined;
    }
    const received = bodyExcerpt ? [bodyExcerpt] : [];
    return status === undefined
        ? r.failed(opened.failure.code, `${s.path}: ${opened.failure.message}`, expected, { status, received })
        : r.failed("UNEXPECTED_STATUS", `the upgrade of ${s.path} got HTTP ${status}, expected ${s.status}`, expected, {
              status,
              received,
          });
}

export const connect: Standalone<ConnectStep> = { needsConnection: false, parse, run };
