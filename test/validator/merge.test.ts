import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { WebSocketServer } from "ws";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { histogramOf, percentile, percentileMs } from "../../validator/core";
import { COUNTERS, mergeTallies, metricsOfTally, Report, shardJson, Tally } from "../../validator/report";
import { parseLocalAddresses } from "../../validator/local-address";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env: {} });
    assert.equal(liveCount(), 0, "a socket was left open");
    return { code, out, err };
}

/** Deterministic samples (a linear congruential generator): no test depends on chance. */
function samples(count: number, lowMs: number, highMs: number, seed: number): number[] {
    let x = seed;
    return Array.from({ length: count }, () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return lowMs + ((highMs - lowMs) * x) / 2 ** 31;
    });
}

function tallyOf(handshakeMs: number[], extra: Partial<Tally> = {}): Tally {
    const counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Tally["counters"];
    counters.handshakesAttempted = handshakeMs.length;
    counters.handshakesOpened = handshakeMs.length;
    counters.connectionsStayedUp = handshakeMs.length;
    return {
        counters,
        failuresByCode: {},
        loadFailuresByCode: {},
        histograms: { handshakeMs: histogramOf(handshakeMs), messageLatencyMs: histogramOf([]) },
        scenario: false,
        interrupted: false,
        ...extra,
    };
}

describe("validator: shards that merge", function () {
    this.timeout(20_000);
    let dir: string;
    const write = (name: string, text: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    };
    const shard = (name: string, tally: Tally) =>
        write(
            name,
            shardJson(tally, { target: "ws://127.0.0.1:1", startedAt: "2026-01-01T00:00:00Z", durationSec: 1 }),
        );

    // A fast machine and a slow one: 900 handshakes near 10 ms, 100 near 400 ms.
    const fast = samples(900, 5, 15, 7);
    const slow = samples(100, 300, 500, 11);

    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-merge-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("merged shards give one run's percentiles exactly; the average of shard percentiles does not", async () => {
        const one = histogramOf([...fast, ...slow]);
        const files = [shard("fast.json", tallyOf(fast)), shard("slow.json", tallyOf(slow))];
        const run = await cli(["merge", ...files, "--json", "--threshold", "handshake_p95_ms<60000"]);
        assert.equal(run.code, 0, run.out + run.err);
        const report = JSON.parse(run.out) as Report;
        assert.equal(report.metrics.handshake_p95_ms, percentileMs(one, 95));
        assert.equal(report.metrics.handshake_p99_ms, percentileMs(one, 99));
        assert.equal(report.metrics.handshake_success_rate, 1);
        // HDR keeps 3 significant digits: never below the exact nearest-rank value, under 0.1 % above it.
        const exact = percentile([...fast, ...slow], 95)!;
        assert.ok(
            report.metrics.handshake_p95_ms! >= exact - 0.001 && report.metrics.handshake_p95_ms! <= exact * 1.001,
        );
        // The p95 of all 1000 lies among the slow machine's (top 10 %); averaging the two p95s lands between.
        const averaged = (percentileMs(histogramOf(fast), 95)! + percentileMs(histogramOf(slow), 95)!) / 2;
        assert.ok(Math.abs(averaged - exact) > 50, `averaged ${averaged} vs exact ${exact}`);
        // Judged on the merged data: a bar between the averaged p95 and the true one fails the merge.
        const judged = await cli([
            "merge",
            ...files,
            "--threshold",
            `handshake_p95_ms<${Math.round((averaged + exact) / 2)}`,
        ]);
        assert.equal(judged.code, averaged < exact ? 1 : 0, judged.out);
        assert.match(judged.out, /merged 2 shards/);
    });

    it("sums counters and failure codes; a failed check fails the merge, an interrupted shard is 130", () => {
        const a = tallyOf(fast, { failuresByCode: { PING_TIMEOUT: 1 }, loadFailuresByCode: { HANDSHAKE_TIMEOUT: 3 } });
        const b = tallyOf(slow, { loadFailuresByCode: { HANDSHAKE_TIMEOUT: 2, CONNECTION_RESET: 1 } });
        const merged = mergeTallies([a, b]);
        assert.deepEqual(merged.loadFailuresByCode, { HANDSHAKE_TIMEOUT: 5, CONNECTION_RESET: 1 });
        assert.equal(merged.counters.handshakesAttempted, 1000);
        assert.equal(metricsOfTally(merged).handshake_success_rate, 1);
        return Promise.all([
            cli(["merge", shard("a.json", a), shard("b.json", b)]).then((r) => assert.equal(r.code, 1, r.out)),
            cli(["merge", shard("i.json", tallyOf(fast, { interrupted: true }))]).then((r) =>
                assert.equal(r.code, 130, r.out),
            ),
        ]);
    });

    it("a bad shard file is exit 2 naming the file and what is wrong, before anything is printed", async () => {
        const good = shard("good.json", tallyOf(fast));
        const parsed = JSON.parse(fs.readFileSync(good, "utf8")) as Record<string, unknown>;
        const cases: Array<[string, string, RegExp]> = [
            ["text.json", "not json", /is not JSON/],
            ["other.json", JSON.stringify({ hello: 1 }), /is not a ws-validate shard/],
            [
                "v9.json",
                JSON.stringify({ ...parsed, version: 9 }),
                /format version 9; this ws-validate reads version 1/,
            ],
            [
                "hist.json",
                JSON.stringify({ ...parsed, histograms: { handshakeMs: "AAAA", messageLatencyMs: "AAAA" } }),
                /histograms.handshakeMs/,
            ],
            [
                "neg.json",
                JSON.stringify({ ...parsed, counters: { ...(parsed.counters as object), holds: -1 } }),
                /counters.holds/,
            ],
            ["code.json", JSON.stringify({ ...parsed, failuresByCode: { NOPE: 1 } }), /failuresByCode.NOPE/],
        ];
        for (const [name, text, problem] of cases) {
            const file = write(name, text);
            const run = await cli(["merge", good, file]);
            assert.equal(run.code, 2, `${name}: ${run.out}`);
            assert.equal(run.out, "");
            assert.ok(run.err.includes(`shard ${file}`), run.err);
            assert.match(run.err, problem);
        }
        const missing = await cli(["merge", path.join(dir, "absent.json")]);
        assert.match(missing.err, /absent.json: cannot read it \(ENOENT\)/);
        assert.equal((await cli(["merge"])).code, 2);
        const clash = await cli([
            "local",
            "--shard-out",
            path.join(dir, "x.json"),
            "--report",
            path.join(dir, "x.json"),
        ]);
        assert.equal(clash.code, 2);
        assert.match(clash.err, /--shard-out and --report are both/);
        const overwrite = await cli(["merge", good, "--report", good]);
        assert.match(overwrite.err, /is one of the shards/);
    });

    it("--shard-out from real runs, merged: counts add up and the verdict is the runs'", async () => {
        const files = [path.join(dir, "run1.json"), path.join(dir, "run2.json")];
        for (const file of files) {
            const run = await cli([
                "local",
                "--messages",
                "2",
                "--hold",
                "0",
                "--connections",
                "20",
                "--rate",
                "1000",
                "--shard-out",
                file,
                "--threshold",
                "handshake_p95_ms<60000",
                "--threshold",
                "message_latency_p95_ms<60000",
            ]);
            assert.equal(run.code, 0, run.out + run.err);
        }
        const html = path.join(dir, "merged.html");
        const merged = await cli([
            "merge",
            ...files,
            "--json",
            "--report-html",
            html,
            "--threshold",
            "handshake_p95_ms<60000",
            "--threshold",
            "message_latency_p95_ms<60000",
        ]);
        assert.equal(merged.code, 0, merged.out + merged.err);
        const report = JSON.parse(merged.out) as Report;
        // Each run: its probes' handshakes and the 20 of the load.
        const one = JSON.parse(fs.readFileSync(files[0], "utf8")) as { counters: Record<string, number> };
        assert.ok(one.counters.handshakesAttempted >= 20);
        assert.equal(report.metrics.handshake_success_rate, 1);
        assert.ok(fs.readFileSync(html, "utf8").includes("<html"));
    });
});

describe("validator: --local-address", function () {
    this.timeout(20_000);
    const lo = { lo: [{ address: "127.0.0.1", family: "IPv4" }] } as unknown as Parameters<
        typeof parseLocalAddresses
    >[1];

    it("takes addresses, ranges and CIDR blocks, with bounds", () => {
        assert.deepEqual(parseLocalAddresses("127.0.0.2-127.0.0.4, 127.0.1.0/31", lo, "linux"), [
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.4",
            "127.0.1.0",
            "127.0.1.1",
        ]);
        assert.throws(() => parseLocalAddresses("127.0.0.0/8", lo, "linux"), /16777216 addresses/);
        assert.throws(() => parseLocalAddresses("127.0.0.9-127.0.0.2", lo, "linux"), /ends before it starts/);
        assert.throws(() => parseLocalAddresses("127.0.0.2,127.0.0.2", lo, "linux"), /given twice/);
        assert.throws(() => parseLocalAddresses("localhost", lo, "linux"), /not an IP address/);
        // Loopback beyond 127.0.0.1 is the host's own only where Linux routes all of 127/8 to lo.
        assert.throws(() => parseLocalAddresses("127.0.0.2", lo, "darwin"), /has no such address/);
    });

    it("an address the host does not have is exit 2 before any work", async () => {
        const run = await cli(["local", "--connections", "5", "--local-address", "192.0.2.1"]);
        assert.equal(run.code, 2);
        assert.match(run.err, /--local-address 192.0.2.1: this host has no such address/);
        assert.equal(run.out, "");
        const family = await cli(["local", "--connections", "5", "--local-address", "::1"]);
        assert.equal(family.code, 2);
        assert.match(family.err, /--local-address ::1: an IPv6 address cannot reach the target 127.0.0.1 \(IPv4\)/);
        assert.equal(family.out, "");
    });

    it("spreads a load's connections round robin over the addresses, none offering compression", async function () {
        if (process.platform !== "linux") {
            this.skip();
        }
        const seen = new Map<string, number>();
        const deflate: string[] = [];
        const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
        server.on("connection", (ws, req) => {
            const from = req.socket.remoteAddress ?? "?";
            seen.set(from, (seen.get(from) ?? 0) + 1);
            if (req.headers["sec-websocket-extensions"] !== undefined) {
                deflate.push(from);
            }
            ws.on("message", (data) => ws.send(data));
        });
        await new Promise((resolve) => server.once("listening", resolve));
        const { port } = server.address() as { port: number };
        try {
            const run = await cli([
                `ws://127.0.0.1:${port}/ws`,
                "--messages",
                "0",
                "--hold",
                "0",
                "--connections",
                "30",
                "--rate",
                "1000",
                "--local-address",
                "127.0.0.2-127.0.0.4",
                "--threshold",
                "handshake_p95_ms<60000",
            ]);
            assert.equal(run.code, 0, run.out + run.err);
            for (const address of ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) {
                assert.equal(seen.get(address), 10, JSON.stringify([...seen]));
            }
            // The probe from 127.0.0.1 still offers permessage-deflate (ws's default); the load's do not.
            assert.deepEqual(deflate, ["127.0.0.1"]);
        } finally {
            for (const client of server.clients) {
                client.terminate();
            }
            await new Promise((resolve) => server.close(resolve));
        }
    });
});
