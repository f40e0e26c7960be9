import { strict as assert } from "assert";
import { performance } from "perf_hooks";
import { handshakesInFlight, liveCount, openSocket, SocketPool } from "../../validator/core/connect";
import { DeadlineSweep, Watched } from "../../validator/core/deadlines";
import { silentServer } from "./servers";

/** A watched item that records whether it expired, and releases itself as the owners do. */
function item(sweep: DeadlineSweep, delayMs: number, expired: string[], name: string): Watched & { settle(): void } {
    const watched = {
        dueAt: performance.now() + delayMs,
        settled: false,
        expire() {
            watched.settled = true;
            expired.push(name);
            sweep.release();
        },
        settle() {
            watched.settled = true;
            sweep.release();
        },
    };
    sweep.add(watched, delayMs);
    return watched;
}

const until = async (done: () => boolean, boundMs = 10_000) => {
    const started = Date.now();
    while (!done()) {
        assert.ok(Date.now() - started < boundMs, "not within the bound");
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
};

describe("validator: one timer for many deadlines", () => {
    it("expires what is unsettled at its deadline and never what settled first, across delays", async () => {
        const sweep = new DeadlineSweep();
        const expired: string[] = [];
        const a = item(sweep, 20, expired, "a");
        item(sweep, 20, expired, "b");
        item(sweep, 60, expired, "c");
        // A shorter delay added later must still come due first: it has a lane of its own.
        item(sweep, 5, expired, "d");
        a.settle();
        await until(() => sweep.pending === 0);
        assert.deepEqual(expired, ["d", "b", "c"]);
    });

    it("expires in due order across delays when its timer fires late, as on a busy machine", async () => {
        const sweep = new DeadlineSweep();
        const expired: string[] = [];
        item(sweep, 20, expired, "b");
        item(sweep, 5, expired, "d");
        // Hold the event loop past both deadlines, so one sweep finds both due.
        const blockedUntil = performance.now() + 40;
        while (performance.now() < blockedUntil) {
            // busy on purpose
        }
        await until(() => sweep.pending === 0);
        assert.deepEqual(expired, ["d", "b"]);
    });

    it("holds no timer once nothing is unsettled, so it never keeps a process alive", () => {
        const sweep = new DeadlineSweep();
        const expired: string[] = [];
        const items = Array.from({ length: 3000 }, (_, i) => item(sweep, 60_000, expired, String(i)));
        assert.equal(sweep.pending, 3000);
        items.forEach((i) => i.settle());
        assert.equal(sweep.pending, 0);
        assert.equal((sweep as unknown as { timer?: unknown }).timer, undefined);
        assert.deepEqual(expired, []);
    });

    it("expires every one of thousands added together, each once", async () => {
        const sweep = new DeadlineSweep();
        const expired: string[] = [];
        const items = Array.from({ length: 5000 }, (_, i) => item(sweep, 10, expired, String(i)));
        // Settling half keeps them out of the expiries however the lane is compacted.
        items.filter((_, i) => i % 2 === 0).forEach((i) => i.settle());
        await until(() => sweep.pending === 0);
        assert.equal(expired.length, 2500);
        assert.equal(new Set(expired).size, 2500);
        assert.ok(expired.every((name) => Number(name) % 2 === 1));
    });

    it("times out handshakes to a server that never answers, through the shared timer, and ends their sockets", async () => {
        const server = await silentServer();
        const sockets = new SocketPool();
        try {
            const results = await Promise.all(
                Array.from({ length: 20 }, () => openSocket(server.url, { sockets, handshakeTimeoutMs: 300 })),
            );
            assert.deepEqual(
                results.map((r) => (r.ok ? "open" : r.failure.code)),
                Array.from({ length: 20 }, () => "HANDSHAKE_TIMEOUT"),
            );
            assert.equal(handshakesInFlight(), 0);
            await until(() => liveCount() === 0);
        } finally {
            sockets.terminateAll();
            await server.close();
        }
    });
});
