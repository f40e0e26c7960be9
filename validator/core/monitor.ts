import { FAILURE_CODES, FailureCode } from "./codes";
import { closeSocket, OpenOptions, openSocket } from "./connect";
import { roundTrip } from "./probe";

export interface MonitorOptions extends OpenOptions {
    readonly intervalSec: number;
    readonly durationSec: number;
    readonly echo: boolean;
    readonly messageTimeoutMs: number;
    /** Ctrl-C: stop and summarize what was seen. */
    readonly signal?: AbortSignal;
    readonly print: (line: string) => void;
}

export interface MonitorProbe {
    readonly time: string;
    readonly endpoint: string;
    readonly ok: boolean;
    readonly code?: FailureCode;
    readonly handshakeMs: number;
    readonly status?: number;
}

export interface MonitorResult {
    readonly probes: MonitorProbe[];
    readonly stoppedEarly: boolean;
    readonly failureRate: number;
}

const WINDOW = 10;

function rate(probes: readonly MonitorProbe[]): number {
    return probes.length === 0 ? 0 : probes.filter((p) => !p.ok).length / probes.length;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** Wide enough for the longest failure code with an HTTP status, so columns line up whatever fails. */
const STATUS_WIDTH = "FAIL ".length + Math.max(...Object.keys(FAILURE_CODES).map((c) => c.length)) + " 000".length;

/** One probe per endpoint every interval for the duration: a status line each, rolling failure rates. */
export async function runMonitor(
    urls: ReadonlyArray<{ endpoint: string; url: string }>,
    options: MonitorOptions,
): Promise<MonitorResult> {
    const probes: MonitorProbe[] = [];
    const started = Date.now();
    const stopped = () => options.signal?.aborted === true;
    let tick = 0;
    const endpointWidth = Math.max(12, ...urls.map((u) => u.endpoint.length));
    while (!stopped() && Date.now() - started < options.durationSec * 1000) {
        for (const { endpoint, url } of urls) {
            if (stopped()) {
                break;
            }
            const opened = await openSocket(url, options);
            let probe: MonitorProbe;
            if (!opened.ok) {
                probe = {
                    time: new Date().toISOString(),
                    endpoint,
                    ok: false,
                    code: opened.failure.code,
                    status: opened.failure.evidence.status,
                    handshakeMs: opened.timings.totalMs,
                };
            } else {
                const echoFailure = options.echo
                    ? (await roundTrip(opened.ws, 1, options.messageTimeoutMs)).failure
                    : undefined;
                await closeSocket(opened.ws);
                probe = {
                    time: new Date().toISOString(),
                    endpoint,
                    ok: !echoFailure,
                    code: echoFailure?.code,
                    handshakeMs: opened.timings.totalMs,
                };
            }
            probes.push(probe);
            const mine = probes.filter((p) => p.endpoint === endpoint);
            const status = probe.ok ? "ok" : `FAIL ${probe.code}${probe.status ? ` ${probe.status}` : ""}`;
            options.print(
                `${probe.time}  ${endpoint.padEnd(endpointWidth)} ${status.padEnd(STATUS_WIDTH)}  handshake ${probe.handshakeMs.toFixed(0).padStart(5)} ms  ` +
                    `failures: last ${Math.min(WINDOW, mine.length)} ${pct(rate(mine.slice(-WINDOW)))}, all ${pct(rate(probes))}`,
            );
        }
        tick += 1;
        const next = started + tick * options.intervalSec * 1000;
        const wait = Math.min(next, started + options.durationSec * 1000) - Date.now();
        if (wait > 0 && !stopped()) {
            await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, wait);
                options.signal?.addEventListener("abort", () => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
    }
    return { probes, stoppedEarly: stopped(), failureRate: rate(probes) };
}
