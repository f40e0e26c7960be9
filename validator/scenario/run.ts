import { randomUUID } from "crypto";
import { performance } from "perf_hooks";
import { isDeepStrictEqual } from "util";
import WebSocket from "ws";
import {
    FailureCode,
    closeSocket,
    ConnectOptions,
    openSocket,
    SocketPool,
    endpointUrl,
    distribution,
    Distribution,
    round,
} from "../core";
import { sleep } from "../../cli/kit";
import { Check, ExpectStep, Scenario, Step, StepKind, TEMPLATE } from "./parse";

// Runs a scenario's checks against a base URL. Each run of a check owns one connection at a time;
// a failed step stops its check and says what was expected and what arrived.

/** What a failed step saw. */
export interface StepFailure {
    readonly code: FailureCode;
    readonly message: string;
    /** 1-based step number within its check, its kind and its line in the scenario file. */
    readonly step: number;
    readonly kind: StepKind;
    readonly line: number;
    readonly expected: string;
    /** The last messages the connection received, newest last. */
    readonly received: string[];
    readonly status?: number;
    readonly closeCode?: number;
    readonly closeReason?: string;
    /** Milliseconds from the step's start to its failure. */
    readonly elapsedMs: number;
}

export interface CheckResult {
    readonly name: string;
    readonly runs: number;
    readonly passed: number;
    readonly failed: number;
    readonly durationMs: Distribution;
    /** The first few failures (all runs of a load usually fail the same way). */
    readonly failures: StepFailure[];
}

export interface ScenarioResult {
    readonly file: string;
    readonly checks: CheckResult[];
    /** Passed runs over all runs of all checks. */
    readonly successRate: number;
}

export type ScenarioRunOptions = Omit<ConnectOptions, "handshakeTimeoutMs"> & {
    readonly sockets: SocketPool;
    /** Ctrl-C: a sleep ends at once, no further step or run starts, and the run in progress says so. */
    readonly signal?: AbortSignal;
};

const KEPT_FAILURES = 5;
const KEPT_MESSAGES = 5;
const EXCERPT = 200;

interface Received {
    readonly text: string;
    readonly json?: unknown;
}

/** One open connection as a check sees it: everything received, in order, and how it ended. */
class Connection {
    readonly messages: Received[] = [];
    cursor = 0;
    pongs = 0;
    closed?: { code: number; reason: string };
    private wake?: () => void;

    constructor(readonly ws: WebSocket) {
        ws.on("message", (data: WebSocket.RawData) => {
            const text = data.toString();
            let json: unknown;
            try {
                json = JSON.parse(text);
            } catch {
                json = undefined;
            }
            this.messages.push({ text, json });
            this.notify();
        });
        ws.on("pong", () => {
            this.pongs += 1;
            this.notify();
        });
        ws.on("close", (code: number, reason: Buffer) => {
            this.closed = { code, reason: reason.toString() };
            this.notify();
        });
        ws.on("error", () => undefined);
    }

    private notify(): void {
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
    }

    /** Resolves on the next message, pong or close, at the deadline (performance.now() time) or on an abort. */
    next(deadline: number, signal?: AbortSignal): Promise<void> {
        return new Promise((resolve) => {
            const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
            signal?.addEventListener("abort", done, { once: true });
            function done() {
                clearTimeout(timer);
                signal?.removeEventListener("abort", done);
                resolve();
            }
            this.wake = done;
        });
    }

    /** The last messages received; for a mismatch, the last ones the step read, ending with the culprit. */
    recent(read = false): string[] {
        const end = read ? this.cursor : this.messages.length;
        return this.messages
            .slice(Math.max(0, end - KEPT_MESSAGES), end)
            .map((m) => (m.text.length > EXCERPT ? `${m.text.slice(0, EXCERPT)}...` : m.text));
    }
}

/** A dot path (`data.items.0.id`) into a JSON value. */
function fieldAt(value: unknown, path: string): unknown {
    let current = value;
    for (const part of path.split(".")) {
        if (typeof current !== "object" || current === null) {
            return undefined;
        }
        current = (current as Record<string, unknown>)[part];
    }
    return current;
}

type Vars = Map<string, unknown>;

/** Fills `{{...}}` in strings; a string that is one template keeps the value's type (a number stays one). */
function render(value: unknown, vars: Vars, sent: unknown): unknown {
    const lookup = (name: string): unknown =>
        name === "uuid"
            ? randomUUID()
            : name === "now"
              ? Date.now()
              : name.startsWith("sent.")
                ? fieldAt(sent, name.slice(5))
                : vars.get(name);
    if (typeof value === "string") {
        const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}$/.exec(value);
        if (whole) {
            return lookup(whole[1]);
        }
        return value.replace(TEMPLATE, (_, name: string) => {
            const found = lookup(name);
            return typeof found === "string" ? found : JSON.stringify(found);
        });
    }
    if (Array.isArray(value)) {
        return value.map((v) => render(v, vars, sent));
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, vars, sent)]));
    }
    return value;
}

function describeExpect(step: ExpectStep, json: Record<string, unknown> | undefined, text: unknown): string {
    if (step.none) {
        return `no message for ${step.withinMs} ms`;
    }
    const parts: string[] = [];
    if (json) {
        parts.push(`JSON with ${JSON.stringify(json)}`);
    }
    if (step.match) {
        parts.push(
            `fields matching ${JSON.stringify(Object.fromEntries(Object.entries(step.match).map(([k, r]) => [k, r.source])))}`,
        );
    }
    if (text !== undefined) {
        parts.push(`text ${JSON.stringify(text)}`);
    }
    const what = parts.join(" and ") || "any message";
    return `${step.count > 1 ? `${step.count} messages: ` : ""}${what} within ${step.withinMs} ms${step.strict ? " (as the very next message)" : ""}`;
}

function matches(
    message: Received,
    json: Record<string, unknown> | undefined,
    step: ExpectStep,
    text: unknown,
): boolean {
    if (text !== undefined && message.text !== text) {
        return false;
    }
    if (
        json &&
        !Object.entries(json).every(([path, expected]) => isDeepStrictEqual(fieldAt(message.json, path), expected))
    ) {
        return false;
    }
    if (step.match) {
        return Object.entries(step.match).every(([path, regex]) => {
            const value = fieldAt(message.json, path);
            return value !== undefined && regex.test(typeof value === "string" ? value : JSON.stringify(value));
        });
    }
    return true;
}

/** Runs one check once: its steps in order, stopping at the first that fails. */
async function runCheckOnce(
    check: Check,
    baseUrl: string,
    options: ScenarioRunOptions,
): Promise<StepFailure | undefined> {
    const vars: Vars = new Map();
    let sent: unknown;
    let connection: Connection | undefined;
    try {
        for (const [index, step] of check.steps.entries()) {
            const started = performance.now();
            const failed = (
                code: FailureCode,
                message: string,
                expected: string,
                extra: Partial<StepFailure> = {},
            ): StepFailure => ({
                code,
                message,
                step: index + 1,
                kind: step.kind,
                line: step.line,
                expected,
                received: connection?.recent(code === "STEP_MISMATCH") ?? [],
                closeCode: connection?.closed?.code,
                closeReason: connection?.closed?.reason || undefined,
                elapsedMs: round(performance.now() - started, 1)!,
                ...extra,
            });
            const runStep = async (s: Step): Promise<StepFailure | undefined> => {
                const deadline = started + ("withinMs" in s ? s.withinMs : 0);
                const closedEarly = (expected: string) =>
                    failed(
                        "UNEXPECTED_CLOSE",
                        `the connection closed (code ${connection!.closed!.code}) while the step waited`,
                        expected,
                    );
                switch (s.kind) {
                    case "connect": {
                        if (connection && !connection.closed) {
                            await closeSocket(connection.ws);
                        }
                        connection = undefined;
                        let pending: Connection | undefined;
                        const opened = await openSocket(endpointUrl(baseUrl, s.path), {
                            ...options,
                            headers: s.headers,
                            origin: s.origin,
                            subprotocols: s.subprotocol ? [s.subprotocol] : undefined,
                            handshakeTimeoutMs: s.withinMs,
                            onSocket: (ws) => (pending = new Connection(ws)),
                        });
                        const expected = `HTTP ${s.status} to the upgrade of ${s.path} within ${s.withinMs} ms`;
                        if (opened.ok) {
                            connection = pending;
                            if (s.status !== 101) {
                                return failed(
                                    "UNEXPECTED_STATUS",
                                    `the upgrade of ${s.path} was accepted (101), expected HTTP ${s.status}`,
                                    expected,
                                    { status: 101 },
                                );
                            }
                            return undefined;
                        }
                        const status = opened.failure.evidence.status;
                        if (status === s.status) {
                            return undefined;
                        }
                        return failed(
                            status === undefined ? opened.failure.code : "UNEXPECTED_STATUS",
                            status === undefined
                                ? `${s.path}: ${opened.failure.message}`
                                : `the upgrade of ${s.path} got HTTP ${status}, expected ${s.status}`,
                            expected,
                            {
                                status,
                                received: opened.failure.evidence.bodyExcerpt
                                    ? [opened.failure.evidence.bodyExcerpt]
                                    : [],
                            },
                        );
                    }
                    case "send": {
                        const c = connection!;
                        if (c.closed) {
                            return closedEarly("an open connection to send on");
                        }
                        const payload = s.json !== undefined ? render(s.json, vars, sent) : render(s.text, vars, sent);
                        sent = s.json !== undefined ? payload : undefined;
                        const text = s.json !== undefined ? JSON.stringify(payload) : String(payload);
                        const error = await new Promise<Error | undefined>((resolve) =>
                            c.ws.send(text, (e) => resolve(e ?? undefined)),
                        );
                        return error
                            ? failed(
                                  "UNEXPECTED_CLOSE",
                                  `sending failed: ${error.message}`,
                                  "an open connection to send on",
                              )
                            : undefined;
                    }
                    case "expect": {
                        const c = connection!;
                        const json = s.json ? (render(s.json, vars, sent) as Record<string, unknown>) : undefined;
                        const text = s.text === undefined ? undefined : render(s.text, vars, sent);
                        const expected = describeExpect(s, json, text);
                        let found = 0;
                        let skipped = 0;
                        for (;;) {
                            while (c.cursor < c.messages.length) {
                                const message = c.messages[c.cursor++];
                                if (s.none) {
                                    return failed(
                                        "STEP_MISMATCH",
                                        `a message arrived during the quiet period`,
                                        expected,
                                    );
                                }
                                if (matches(message, json, s, text)) {
                                    found += 1;
                                    for (const [variable, path] of Object.entries(s.capture)) {
                                        vars.set(variable, fieldAt(message.json, path));
                                    }
                                    if (found === s.count) {
                                        return undefined;
                                    }
                                } else if (s.strict) {
                                    return failed("STEP_MISMATCH", `the next message did not match`, expected);
                                } else {
                                    skipped += 1;
                                }
                            }
                            if (c.closed) {
                                return closedEarly(expected);
                            }
                            if (performance.now() >= deadline) {
                                if (s.none) {
                                    return undefined;
                                }
                                const got =
                                    found > 0 ? `${found} of ${s.count} matching messages` : "no matching message";
                                return skipped > 0
                                    ? failed(
                                          "STEP_MISMATCH",
                                          `${got} within ${s.withinMs} ms; ${skipped} other message(s) arrived`,
                                          expected,
                                      )
                                    : failed(
                                          "STEP_TIMEOUT",
                                          `${got} within ${s.withinMs} ms; nothing else arrived`,
                                          expected,
                                      );
                            }
                            await c.next(deadline);
                        }
                    }
                    case "sleep": {
                        const until = started + s.ms;
                        while (performance.now() < until && !options.signal?.aborted) {
                            if (connection?.closed) {
                                return failed(
                                    "UNEXPECTED_CLOSE",
                                    `the connection closed (code ${connection.closed.code}) ${((performance.now() - started) / 1000).toFixed(1)} s into a ${s.ms / 1000} s sleep`,
                                    `the connection to stay open for ${s.ms} ms`,
                                );
                            }
                            await (connection
                                ? connection.next(until, options.signal)
                                : sleep(until - performance.now(), options.signal));
                        }
                        if (options.signal?.aborted && performance.now() < until) {
                            return failed(
                                "INTERRUPTED",
                                `stopped by an interrupt ${((performance.now() - started) / 1000).toFixed(1)} s into a ${s.ms / 1000} s sleep`,
                                `the connection to stay open for ${s.ms} ms`,
                            );
                        }
                        return connection?.closed
                            ? closedEarly(`the connection to stay open for ${s.ms} ms`)
                            : undefined;
                    }
                    case "ping": {
                        const c = connection!;
                        const expected = `a pong within ${s.withinMs} ms`;
                        if (c.closed) {
                            return closedEarly(expected);
                        }
                        const before = c.pongs;
                        c.ws.ping();
                        while (c.pongs === before) {
                            if (c.closed) {
                                return closedEarly(expected);
                            }
                            if (performance.now() >= deadline) {
                                return failed("STEP_TIMEOUT", `no pong within ${s.withinMs} ms`, expected);
                            }
                            await c.next(deadline);
                        }
                        return undefined;
                    }
                    case "close": {
                        const c = connection!;
                        const wanted = s.expect ?? s.code;
                        const expected = `${s.code === undefined ? "the server to close" : `an answer to close ${s.code}`}${wanted === undefined ? "" : ` with code ${wanted}`} within ${s.withinMs} ms`;
                        if (s.code !== undefined && !c.closed) {
                            c.ws.close(s.code, s.reason);
                        }
                        while (!c.closed) {
                            if (performance.now() >= deadline) {
                                c.ws.terminate();
                                return failed(
                                    "STEP_TIMEOUT",
                                    `the connection did not close within ${s.withinMs} ms`,
                                    expected,
                                );
                            }
                            await c.next(deadline);
                        }
                        connection = undefined;
                        if (wanted !== undefined && c.closed.code !== wanted) {
                            return failed(
                                "STEP_MISMATCH",
                                `closed with code ${c.closed.code}, expected ${wanted}`,
                                expected,
                                { closeCode: c.closed.code, closeReason: c.closed.reason || undefined },
                            );
                        }
                        return undefined;
                    }
                }
            };
            if (options.signal?.aborted) {
                return failed(
                    "INTERRUPTED",
                    "stopped by an interrupt before this step",
                    `the ${step.kind} step to run`,
                );
            }
            const outcome = await runStep(step);
            if (outcome) {
                return outcome;
            }
        }
        return undefined;
    } finally {
        const open = connection as Connection | undefined;
        if (open && !open.closed) {
            await closeSocket(open.ws);
        }
    }
}

/** Runs `task` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(
    items: readonly T[],
    limit: number,
    task: (item: T) => Promise<R>,
    stop?: AbortSignal,
): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let nextIndex = 0;
    const worker = async () => {
        while (nextIndex < items.length && !stop?.aborted) {
            const i = nextIndex++;
            results[i] = await task(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    // Without the items an interrupt kept from starting: they were not run, so they are not counted.
    return results.filter(() => true);
}

async function runCheck(check: Check, baseUrl: string, options: ScenarioRunOptions): Promise<CheckResult> {
    const runs = await mapLimit(
        Array.from({ length: check.repeat }, (_, i) => i),
        check.parallel,
        async () => {
            const started = performance.now();
            const failure = await runCheckOnce(check, baseUrl, options);
            return { failure, ms: performance.now() - started };
        },
        options.signal,
    );
    const failures = runs.flatMap((r) => (r.failure ? [r.failure] : []));
    return {
        name: check.name,
        runs: runs.length,
        passed: runs.length - failures.length,
        failed: failures.length,
        durationMs: distribution(runs.map((r) => round(r.ms, 1)!)),
        failures: failures.slice(0, KEPT_FAILURES),
    };
}

/** Runs every check of a scenario (in order, or `parallel` at once) against a base URL. */
export async function runScenario(
    scenario: Scenario,
    baseUrl: string,
    options: ScenarioRunOptions,
): Promise<ScenarioResult> {
    const checks = await mapLimit(
        scenario.checks,
        scenario.parallel,
        (check) => runCheck(check, baseUrl, options),
        options.signal,
    );
    const runs = checks.reduce((n, c) => n + c.runs, 0);
    const passed = checks.reduce((n, c) => n + c.passed, 0);
    return { file: scenario.file, checks, successRate: runs === 0 ? 1 : passed / runs };
}
