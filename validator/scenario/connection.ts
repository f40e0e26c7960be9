import { performance } from "perf_hooks";
import WebSocket from "ws";

const KEPT_MESSAGES = 5;
const EXCERPT = 200;

export interface Received {
    readonly text: string;
    readonly json?: unknown;
}

/** How the peer closed the connection. */
export interface Closed {
    readonly code: number;
    readonly reason: string;
}

/** A message's text, however ws delivered its bytes. */
export function rawText(data: WebSocket.RawData): string {
    if (Array.isArray(data)) {
        return Buffer.concat(data).toString();
    }
    return Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
}

/** One open connection as a check sees it: everything received, in order, and how it ended. */
export class Connection {
    readonly messages: Received[] = [];
    cursor = 0;
    pongs = 0;
    closed?: Closed;
    private wake?: () => void;

    constructor(readonly ws: WebSocket) {
        ws.on("message", (data: WebSocket.RawData) => {
            const text = rawText(data);
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
