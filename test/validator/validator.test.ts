import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../validator/cli";
import WebSocket from "ws";
import {
    classify,
    closeSockets,
    handshakesInFlight,
    liveCount,
    openSocket,
    refersToHandshake,
    SocketPool,
} from "../../validator/core/connect";
import { newOpening, openConnections } from "../../validator/core/load";
import { EchoServer, startEchoServer } from "../../validator";
import { Report } from "../../validator/report";
import { eventually, ROOT, runTs, startTs } from "../helpers/cli";
import {
    authServer,
    Closable,
    countingServer,
    hasBinary,
    ageCutServer,
    lifetimeCapProxy,
    nginxIdleProxy,
    protocolServer,
    redirectingServer,
    refusingServer,
    resetDuringTlsServer,
    selfSignedCertificate,
    silentServer,
    tlsEchoServer,
} from "./servers";

interface Run {
    code: number;
    out: string;
    err: string;
    report?: Report;
    seconds: number;
}

async function validate(
    args: string[],
    options: {
        env?: NodeJS.ProcessEnv;
        signal?: AbortSignal;
        status?: (line: string, final?: boolean) => void;
        whileRunning?: () => void;
        onOut?: (text: string) => void;
    } = {},
): Promise<Run> {
    let out = "";
    let err = "";
    const started = Date.now();
    // Latency bars are for real endpoints; on a loaded 2-core test machine an echo can take
    // 200 ms. A test about something else must not fail on them, so they are lifted unless the
    // test sets thresholds itself.
    const relaxed = args.includes("--threshold")
        ? []
        : ["--threshold", "message_latency_p95_ms<60000", "--threshold", "handshake_p95_ms<60000"];
    const running = main([...args, ...relaxed], {
        out: (t) => ((out += t + "\n"), options.onOut?.(t)),
        err: (t) => (err += t + "\n"),
        env: options.env ?? {},
        signal: options.signal,
        status: options.status,
    });
    options.whileRunning?.();
    const code = await running;
    const run: Run = { code, out, err, seconds: (Date.now() - started) / 1000 };
    if (args.includes("--json") && code !== 2 && out.trim() !== "") {
        run.report = JSON.parse(out) as Report;
    }
    assert.equal(liveCount(), 0, "a socket was left open");
    return run;
}

const SHORT = ["--messages", "3", "--hold", "0", "--json"];

describe("validator: against real servers on 127.0.0.1", function () {
    this.timeout(20_000);
    let echo: EchoServer;
    const servers: Closable[] = [];
    const keep = <T extends Closable>(s: T) => (servers.push(s), s);

    before(async () => {
        echo = await startEchoServer();
    });
    after(async () => {
        await echo.close();
        await Promise.all(servers.map((s) => s.close()));
    });

    it("passes the local echo server on every default endpoint, with timings, latencies and both holds", async () => {
        const run = await validate(["local", "--hold", "1", "--ping-interval", "0.2", "--json"]);
        assert.equal(run.code, 0, run.out + run.err);
        const report = run.report!;
        assert.deepEqual(
            report.endpoints.map((e) => e.endpoint),
            ["/ws", "/ws/test", "/websocket"],
        );
        for (const e of report.endpoints) {
            assert.equal(e.handshake.status, 101);
            assert.ok(
                e.handshake.timings.tcpMs !== undefined && e.handshake.timings.totalMs >= e.handshake.timings.tcpMs,
            );
            assert.equal(e.handshake.timings.tlsMs, undefined);
            assert.equal(e.roundTrip?.received, 10);
            assert.deepEqual(
                e.holds.map((h) => [h.mode, h.survived]),
                [
                    ["idle", true],
                    ["ping", true],
                ],
            );
            assert.ok(e.holds[1].pongs >= 3, `pongs: ${e.holds[1].pongs}`);
            assert.equal(e.diagnosis, "held");
        }
        assert.equal(report.metrics.hold_reached_rate, 1);
        assert.ok(report.thresholds.every((t) => t.passed === true));
    });

    it("prints a readable report and exits 0", async () => {
        const run = await validate(["--url", echo.url, "--endpoints", "/ws", "--hold", "0"]);
        assert.equal(run.code, 0);
        assert.match(run.out, /^\/ws\n {4}handshake 101 in \d+ ms \(dns -, tcp \d+ ms, tls -, upgrade \d+ ms\)/m);
        assert.match(run.out, /round trip 10\/10 echoed, latency p50 [\d.]+ ms p95/);
        assert.match(run.out, /verdict: PASS \(exit 0\)/);
    });

    it("diagnoses a lifetime cap: idle and pinging connections cut at the same age, close code 1006", async () => {
        const proxy = keep(await lifetimeCapProxy(echo.port, 1.5));
        const run = await validate([
            "--url",
            proxy.url,
            "--endpoints",
            "/ws",
            "--hold",
            "3",
            "--ping-interval",
            "0.3",
            "--messages",
            "2",
            "--json",
        ]);
        assert.equal(run.code, 1);
        const [e] = run.report!.endpoints;
        assert.equal(e.diagnosis, "lifetime-cap", e.diagnosisText);
        for (const h of e.holds) {
            assert.equal(h.survived, false);
            assert.equal(h.closeCode, 1006);
            assert.ok(Math.abs(h.elapsedSec - 1.5) < 0.5, `cut at ${h.elapsedSec}`);
        }
        assert.deepEqual(
            e.failures.map((f) => f.code),
            ["CUT_BEFORE_HOLD", "CUT_BEFORE_HOLD"],
        );
        assert.equal(e.failures[0].evidence.closeCode, 1006);
        assert.ok(run.seconds < 15, `took ${run.seconds} s`);
    });

    // About 2.6 s: the tolerance is at least 1.5 s, so "different ages" needs a gap past it; both
    // endpoints run side by side in one run.
    it("tells a lifetime cap within its tolerance from connections cut at different ages, whichever is cut first", async () => {
        const server = keep(
            await ageCutServer({
                "/within": [0.5, 1.1],
                "/apart": [0.5, 2.6],
            }),
        );
        const run = await validate([
            "--url",
            server.url,
            "--endpoints",
            "/within,/apart",
            "--hold",
            "4",
            "--ping-interval",
            "0.05",
            "--messages",
            "1",
            "--json",
        ]);
        assert.equal(run.code, 1);
        const [within, apart] = run.report!.endpoints;
        for (const e of [within, apart]) {
            assert.deepEqual(
                e.holds.map((h) => [h.mode, h.survived, h.closeCode]),
                [
                    ["idle", false, 1006],
                    ["ping", false, 1006],
                ],
                e.diagnosisText,
            );
            assert.ok(e.holds[0].elapsedSec < e.holds[1].elapsedSec, e.diagnosisText);
        }
        assert.equal(within.diagnosis, "lifetime-cap", within.diagnosisText);
        assert.equal(apart.diagnosis, "cut", apart.diagnosisText);
        assert.match(apart.diagnosisText, /^cut at different ages/);
    });

    // About 1.3 s: the idle connection must outlive a whole hold, kept at 1 s.
    it("names a cut of the pinging connection while the idle one held, and a cut seen by one hold mode only", async () => {
        const server = keep(await ageCutServer({ "/pinged": [3600, 0.3], "/any": [0.3, 0.3] }));
        const hold = ["--url", server.url, "--hold", "1", "--ping-interval", "0.05", "--messages", "1", "--json"];
        const both = await validate([...hold, "--endpoints", "/pinged"]);
        const [pinged] = both.report!.endpoints;
        assert.deepEqual(
            pinged.holds.map((h) => [h.mode, h.survived]),
            [
                ["idle", true],
                ["ping", false],
            ],
        );
        assert.equal(pinged.diagnosis, "cut", pinged.diagnosisText);
        const one = await validate([...hold, "--endpoints", "/any", "--hold-mode", "ping"]);
        const [any] = one.report!.endpoints;
        assert.deepEqual(
            any.holds.map((h) => [h.mode, h.survived]),
            [["ping", false]],
        );
        assert.equal(any.diagnosis, "cut", any.diagnosisText);
        assert.equal(one.code, 1);
    });

    it("counts a load's connections cut during the hold: all of them behind a lifetime cap, none held", async () => {
        const proxy = keep(await lifetimeCapProxy(echo.port, 0.5));
        const run = await validate([
            "--url",
            proxy.url,
            "--endpoints",
            "/ws",
            "--hold",
            "1",
            "--connections",
            "6",
            "--rate",
            "100",
            "--messages",
            "1",
            "--json",
        ]);
        assert.equal(run.code, 1);
        const load = run.report!.load!;
        assert.deepEqual([load.opened, load.cut, load.survived], [6, 6, 0]);
    });

    it("diagnoses nginx's proxy_read_timeout as an idle timeout: the idle connection is cut, the pinging one holds", async function () {
        if (!hasBinary("nginx")) {
            console.warn("      SKIPPED: nginx is not installed (apt-get install -y nginx); CI installs it");
            this.skip();
        }
        const nginx = keep(await nginxIdleProxy(echo.port, 1));
        const run = await validate([
            "--url",
            nginx.url,
            "--endpoints",
            "/ws",
            "--hold",
            "3",
            "--ping-interval",
            "0.3",
            "--messages",
            "2",
            "--json",
        ]);
        assert.equal(run.code, 1);
        const [e] = run.report!.endpoints;
        assert.equal(e.handshake.status, 101);
        assert.equal(e.diagnosis, "idle-timeout", e.diagnosisText);
        const [idle, ping] = e.holds;
        assert.equal(idle.survived, false);
        assert.ok(idle.elapsedSec > 0.8 && idle.elapsedSec < 2.5, `idle cut at ${idle.elapsedSec}`);
        assert.equal(ping.survived, true);
        assert.deepEqual(
            e.failures.map((f) => f.code),
            ["CUT_BEFORE_HOLD"],
        );
    });

    for (const [status, body] of [
        [403, "origin not allowed"],
        [426, "upgrade required"],
        [502, "backend unreachable"],
    ] as const) {
        it(`reports HTTP ${status} as HANDSHAKE_REFUSED with the status and body, and does not hang`, async () => {
            const server = keep(await refusingServer(status, body));
            const run = await validate(["--url", server.url, "--endpoints", "/ws", "--hold", "2", "--json"]);
            assert.equal(run.code, 1);
            const [e] = run.report!.endpoints;
            assert.equal(e.handshake.ok, false);
            assert.equal(e.failures[0].code, "HANDSHAKE_REFUSED");
            assert.equal(e.failures[0].evidence.status, status);
            assert.equal(e.failures[0].evidence.bodyExcerpt, body);
            assert.equal(e.failures.length, 1, "the refused hold handshakes repeat the same failure once");
            assert.equal(run.report!.metrics.handshake_success_rate, 0);
            // A refused socket left open would hang until the test's deadline; the bound is generous for a busy machine.
            assert.ok(run.seconds < 15, `took ${run.seconds} s`);
        });
    }

    // ws follows no redirect by default (followRedirects: false in ws/lib/websocket.js), and the
    // validator relies on that default rather than setting it: a redirect is the server's answer.
    for (const status of [302, 307]) {
        it(`reports a ${status} redirect as HANDSHAKE_REFUSED and does not follow it`, async () => {
            const target = keep(await countingServer());
            const server = keep(await redirectingServer(status, `${target.url}/ws`));
            const run = await validate([
                "--url",
                server.url,
                "--endpoints",
                "/ws",
                "--hold",
                "0",
                "--connections",
                "3",
                "--json",
            ]);
            assert.equal(run.code, 1);
            const [e] = run.report!.endpoints;
            assert.equal(e.failures[0].code, "HANDSHAKE_REFUSED");
            assert.equal(e.failures[0].evidence.status, status);
            assert.equal(e.failures[0].evidence.headers?.location, `${target.url}/ws`);
            assert.deepEqual(run.report!.load!.failuresByCode, { HANDSHAKE_REFUSED: 3 });
            assert.equal(target.connections(), 0, "the redirect was followed");
        });
    }

    it("gives up on a server that accepts TCP and never answers: HANDSHAKE_TIMEOUT within the deadline", async () => {
        const server = keep(await silentServer());
        const run = await validate(["--url", server.url, "--endpoints", "/ws", "--handshake-timeout", "1", ...SHORT]);
        assert.equal(run.code, 1);
        assert.equal(run.report!.endpoints[0].failures[0].code, "HANDSHAKE_TIMEOUT");
        // The 1 s deadline, not the 10 s default: under 9 s even on a busy machine.
        assert.ok(run.seconds < 9, `took ${run.seconds} s`);
    });

    it("counts a load's refused and unanswered handshakes by their codes, and leaves no socket open", async () => {
        const refusing = keep(await refusingServer(502, "bad gateway"));
        const refused = await validate([
            "--url",
            refusing.url,
            "--endpoints",
            "/ws",
            "--connections",
            "5",
            "--rate",
            "1000",
            ...SHORT,
        ]);
        assert.deepEqual(refused.report!.load!.failuresByCode, { HANDSHAKE_REFUSED: 5 });
        const silent = keep(await silentServer());
        const unanswered = await validate([
            "--url",
            silent.url,
            "--endpoints",
            "/ws",
            "--connections",
            "5",
            "--rate",
            "1000",
            "--handshake-timeout",
            "1",
            ...SHORT,
        ]);
        assert.deepEqual(unanswered.report!.load!.failuresByCode, { HANDSHAKE_TIMEOUT: 5 });
        assert.equal(handshakesInFlight(), 0);
    });

    it("a load's opening phase on its own adds into the opening it is given and resolves once every handshake settled", async () => {
        const refusing = keep(await refusingServer(503, "draining"));
        const sockets = new SocketPool();
        const opening = newOpening();
        const options = { sockets, handshakeTimeoutMs: 5000, connections: 3, rate: 1e9 };
        try {
            await openConnections([`ws://127.0.0.1:${echo.port}/ws`], options, opening);
            await openConnections([refusing.url], { ...options, connections: 2 }, opening);
            assert.equal(opening.attempted, 5);
            assert.equal(opening.sockets.length, 3);
            assert.ok(
                opening.sockets.every((ws) => ws.readyState === WebSocket.OPEN),
                "the echo server's three are open when it resolves",
            );
            assert.deepEqual(opening.failuresByCode, { HANDSHAKE_REFUSED: 2 });
            assert.equal(opening.samples.length, 5);
            assert.ok(
                opening.samples.every((ms) => ms > 0),
                `handshake times ${opening.samples.join(", ")}`,
            );
        } finally {
            await closeSockets(opening.sockets, 2000);
            sockets.terminateAll();
        }
        assert.equal(handshakesInFlight(), 0);
    });

    it("counts a load's wss:// handshakes reset inside the TLS handshake as TLS_FAILED, not CONNECTION_RESET", async () => {
        const server = keep(await resetDuringTlsServer());
        const run = await validate([
            "--url",
            server.url,
            "--endpoints",
            "/ws",
            "--connections",
            "5",
            "--rate",
            "1000",
            ...SHORT,
        ]);
        assert.equal(run.code, 1);
        assert.deepEqual(
            run.report!.endpoints[0].failures.map((f) => f.code),
            ["TLS_FAILED"],
        );
        assert.deepEqual(run.report!.load!.failuresByCode, { TLS_FAILED: 5 });
    });

    it("reports CONNECTION_REFUSED when nothing listens", async () => {
        const server = await silentServer();
        await server.close();
        const run = await validate(["--url", server.url, "--endpoints", "/ws", ...SHORT]);
        assert.equal(run.code, 1);
        assert.equal(run.report!.endpoints[0].failures[0].code, "CONNECTION_REFUSED");
        assert.equal(run.report!.endpoints[0].failures[0].evidence.errorCode, "ECONNREFUSED");
    });

    it("classifies resolver failures as DNS_FAILED (no lookup leaves this machine in tests)", () => {
        const err = Object.assign(new Error("getaddrinfo ENOTFOUND chat.example.invalid"), { code: "ENOTFOUND" });
        assert.equal(classify(err, { secure: true, tcpDone: false, tlsDone: false }, 0.01).code, "DNS_FAILED");
    });

    describe("TLS with a self-signed certificate", function () {
        let tlsServer: Closable;
        let certFile: string;
        let certDir: string | undefined;
        before(async function () {
            if (!hasBinary("openssl")) {
                console.warn("      SKIPPED: openssl is not installed (apt-get install -y openssl); CI installs it");
                this.skip();
            }
            const cert = selfSignedCertificate();
            certFile = cert.certFile;
            certDir = cert.dir;
            tlsServer = keep(await tlsEchoServer(cert.cert, cert.key));
        });
        after(() => certDir && fs.rmSync(certDir, { recursive: true, force: true }));

        it("fails with TLS_FAILED without --ca", async () => {
            const run = await validate(["--url", tlsServer.url, "--endpoints", "/ws", ...SHORT]);
            assert.equal(run.code, 1);
            const [f] = run.report!.endpoints[0].failures;
            assert.equal(f.code, "TLS_FAILED");
            assert.equal(f.evidence.errorCode, "DEPTH_ZERO_SELF_SIGNED_CERT");
        });

        it("passes with --ca, timing the TLS handshake", async () => {
            const run = await validate(["--url", tlsServer.url, "--endpoints", "/ws", "--ca", certFile, ...SHORT]);
            assert.equal(run.code, 0, run.out);
            const timings = run.report!.endpoints[0].handshake.timings;
            assert.ok((timings.tlsMs ?? -1) > 0);
            // Every phase of a wss:// probe, each inside the whole.
            assert.deepEqual(Object.keys(timings).sort(), ["tcpMs", "tlsMs", "totalMs", "upgradeMs"]);
            assert.ok(
                timings.tcpMs! + timings.tlsMs! + timings.upgradeMs! <= timings.totalMs + 1,
                JSON.stringify(timings),
            );
        });

        it("counts a load's wss:// handshakes that fail on the certificate as TLS_FAILED, though a load times only the whole handshake", async () => {
            const run = await validate([
                "--url",
                tlsServer.url,
                "--endpoints",
                "/ws",
                "--connections",
                "5",
                "--rate",
                "1000",
                ...SHORT,
            ]);
            assert.equal(run.code, 1);
            assert.deepEqual(run.report!.load!.failuresByCode, { TLS_FAILED: 5 });
        });

        it("passes with --insecure, and warns", async () => {
            const run = await validate(["--url", tlsServer.url, "--endpoints", "/ws", "--insecure", ...SHORT]);
            assert.equal(run.code, 0);
            assert.match(run.err, /warning: --insecure: certificates are not verified/);
        });
    });

    it("opens N connections at a rate, holds them and reports success and handshake percentiles", async () => {
        const run = await validate([
            "--url",
            echo.url,
            "--endpoints",
            "/ws,/websocket",
            "--connections",
            "200",
            "--rate",
            "1000",
            "--hold",
            "0.5",
            "--messages",
            "1",
            "--hold-mode",
            "idle",
            "--json",
        ]);
        assert.equal(run.code, 0, run.out);
        const load = run.report!.load!;
        assert.equal(load.requested, 200);
        assert.equal(load.opened, 200);
        assert.equal(load.survived, 200);
        assert.ok(load.handshakeMs.p50! > 0 && load.handshakeMs.p99! >= load.handshakeMs.p50!);
        // Paced, not a burst: the 200th connection is due 199 ms after the first at 1000/s. (How
        // fast it opens is the benchmark's business, not a test's: a busy machine is slower.)
        assert.ok(load.openSec >= 0.19, `opening took ${load.openSec} s`);
    });

    it("times every phase of a probe's handshake, and only the whole of a load's", async () => {
        const sockets = new SocketPool();
        try {
            const probe = await openSocket(`${echo.url}/ws`, { handshakeTimeoutMs: 5000, sockets });
            const load = await openSocket(`${echo.url}/ws`, { handshakeTimeoutMs: 5000, sockets, totalTimeOnly: true });
            assert.ok(probe.ok && load.ok);
            assert.deepEqual(Object.keys(probe.timings).sort(), ["tcpMs", "totalMs", "upgradeMs"]);
            assert.equal(probe.headers.upgrade, "websocket");
            assert.deepEqual(Object.keys(load.timings), ["totalMs"]);
            assert.ok(load.timings.totalMs > 0);
            assert.deepEqual(load.headers, {});
            // Settled, neither handshake is kept alive by the connection it opened.
            for (const opened of [probe, load]) {
                const socket = (opened.ws as unknown as { _socket: object })._socket;
                assert.ok(
                    !refersToHandshake(opened.ws) && !refersToHandshake(socket),
                    "a settled handshake is still referenced",
                );
            }
        } finally {
            sockets.terminateAll();
        }
        assert.ok(await eventually(() => liveCount() === 0, 10_000), "both sockets closed");
    });

    it("monitors: a status line per probe with rolling failure rates, then a summary", async () => {
        const run = await validate([
            "--url",
            echo.url,
            "--endpoints",
            "/ws",
            "--monitor",
            "--interval",
            "0.2",
            "--duration",
            "0.9",
            "--hold",
            "0",
        ]);
        assert.equal(run.code, 0);
        const lines = run.out.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
        assert.ok(lines.length >= 4 && lines.length <= 6, `${lines.length} probes`);
        assert.match(lines[0], /\/ws +ok +handshake +\d+ ms {2}failures: last 1 0%, all 0%/);
        assert.match(run.out, /monitor: \d+ probes, 0 failed \(0.0%\)/);
    });

    it("monitors a failing endpoint and stops on Ctrl-C with the summary so far, exit 130", async () => {
        const server = keep(await refusingServer(502, "bad gateway"));
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 700);
        const run = await validate(
            [
                "--url",
                server.url,
                "--endpoints",
                "/ws",
                "--monitor",
                "--interval",
                "0.2",
                "--duration",
                "60",
                "--hold",
                "0",
            ],
            { signal: controller.signal },
        );
        assert.equal(run.code, 130);
        assert.match(run.out, /FAIL HANDSHAKE_REFUSED 502/);
        assert.match(run.out, /monitor: \d+ probes, \d+ failed \(100.0%\), stopped early/);
        assert.match(run.out, /FAIL handshake_success_rate>=0.95 +observed 0/);
        assert.match(
            run.out,
            /verdict: INTERRUPTED after [\d.]+ s: the results above are what was measured until then \(exit 130\)/,
        );
    });

    it("monitor mode probes at once: the first lines do not wait behind the default 40 s hold, and columns line up whatever fails", async () => {
        const server = keep(await refusingServer(502, "bad gateway"));
        const probeLines = async (url: string) => {
            const controller = new AbortController();
            const lines: string[] = [];
            const run = await validate(
                ["--url", url, "--endpoints", "/ws", "--monitor", "--interval", "0.2", "--duration", "600"],
                {
                    signal: controller.signal,
                    onOut: (text) => {
                        if (/^\d{4}-\d\d-\d\dT/.test(text)) {
                            lines.push(text);
                            if (lines.length === 2) {
                                controller.abort();
                            }
                        }
                    },
                },
            );
            assert.equal(run.code, 130, run.out + run.err);
            return lines;
        };
        const ok = await probeLines(echo.url);
        const failing = await probeLines(server.url);
        assert.match(failing[0], /FAIL HANDSHAKE_REFUSED 502/);
        assert.equal(ok[0].indexOf("handshake"), failing[0].indexOf("handshake"), `${ok[0]}\n${failing[0]}`);
        assert.equal(ok[0].indexOf("failures:"), failing[0].indexOf("failures:"));
    });

    it("Ctrl-C during a hold stops at once and prints what was measured, exit 130", async () => {
        const controller = new AbortController();
        const run = await validate(["--url", echo.url, "--endpoints", "/ws", "--hold", "600"], {
            signal: controller.signal,
            // Abort once the hold is under way, as the progress line shows it.
            status: (line) => /hold [1-9]/.test(line) && controller.abort(),
        });
        assert.equal(run.code, 130, run.out + run.err);
        assert.match(run.out, /round trip 10\/10 echoed/);
        assert.match(run.out, /hold idle stopped by an interrupt at [\d.]+ s/);
        assert.match(run.out, /diagnosis: hold stopped by an interrupt after [\d.]+ s of 600 s, not cut until then/);
        assert.match(run.out, /verdict: INTERRUPTED/);
    });

    it("Ctrl-C during load opens no more, closes what is open and reports the counts so far, exit 130", async () => {
        const controller = new AbortController();
        const run = await validate(
            ["--url", echo.url, "--endpoints", "/ws", "--hold", "0", "--connections", "100000", "--rate", "20"],
            {
                signal: controller.signal,
                status: (line) => / [1-9]\d*\/100000 opened/.test(line) && controller.abort(),
            },
        );
        assert.equal(run.code, 130, run.err);
        const [, opened, requested] =
            /^load: interrupted: (\d+) of the 100000 asked connections opened \((\d+) started\)/m.exec(run.out) ??
            assert.fail(run.out);
        assert.ok(Number(requested) > 0 && Number(requested) < 100000, `requested ${requested}`);
        assert.equal(opened, requested);
        assert.match(run.out, /verdict: INTERRUPTED/);
    });

    it("a second Ctrl-C stops waiting: a handshake in flight is cut instead of running to its deadline", async () => {
        const server = keep(await silentServer());
        const first = new AbortController();
        const second = new AbortController();
        let code = -1;
        const running = main(["--url", server.url, "--endpoints", "/ws", "--hold", "0", "--handshake-timeout", "600"], {
            out: () => undefined,
            err: () => undefined,
            env: {},
            signal: first.signal,
            force: second.signal,
        }).then((c) => (code = c));
        first.abort();
        await new Promise((resolve) => setTimeout(resolve, 300));
        // The first stop waits for the handshake (600 s here); the second cuts it.
        assert.equal(code, -1, "the run ended before the second Ctrl-C");
        second.abort();
        assert.equal(await running, 130);
        assert.equal(liveCount(), 0);
    });

    it("shows a live progress line per phase with elapsed time, and none with --json", async () => {
        const lines: Array<[string, boolean]> = [];
        const run = await validate(
            ["--url", echo.url, "--endpoints", "/ws", "--hold", "1", "--connections", "5", "--rate", "50"],
            { status: (line, final) => lines.push([line, final === true]) },
        );
        assert.equal(run.code, 0, run.out);
        assert.ok(
            lines.some(([l, final]) => !final && /^\.\.\.\. probe \/ws {2}[\d.]+ s {2}hold \d\/1 s$/.test(l)),
            JSON.stringify(lines),
        );
        assert.ok(lines.some(([l, final]) => final && /^done probe \/ws {2}[\d.]+ s/.test(l)));
        assert.ok(
            lines.some(([l, final]) => final && /^done load {2}[\d.]+ s {2}5\/5 opened, 5 held$/.test(l)),
            JSON.stringify(lines),
        );
        const quiet: string[] = [];
        await validate(["--url", echo.url, "--endpoints", "/ws", "--hold", "0", "--json"], {
            status: (line) => quiet.push(line),
        });
        assert.deepEqual(quiet, []);
    });

    it("uses the path of --url as the endpoint instead of dropping it", async () => {
        const run = await validate(["--url", `${echo.url}/websocket`, ...SHORT]);
        assert.equal(run.code, 0, run.err);
        assert.deepEqual(
            run.report!.endpoints.map((e) => e.url),
            [`${echo.url}/websocket`],
        );
    });

    it("checks --report before any work: a missing folder is exit 2 at once, with nothing on stdout", async () => {
        const run = await validate([
            "--url",
            echo.url,
            "--endpoints",
            "/ws",
            "--hold",
            "30",
            "--report",
            "no-such-dir/r.json",
        ]);
        assert.equal(run.code, 2);
        assert.match(
            run.err,
            /^error: --report no-such-dir\/r\.json: folder no-such-dir does not exist; create it or pick another path/,
        );
        assert.equal(run.out, "");
    });

    it("a report that cannot be written after the run is reported without changing the exit code", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-report-"));
        const file = path.join(dir, "r.json");
        // The check passes when the command starts; the folder is gone by the time it writes.
        const run = await validate(["--url", echo.url, "--endpoints", "/ws", "--hold", "0", "--report", file], {
            whileRunning: () => fs.rmSync(dir, { recursive: true }),
        });
        assert.equal(run.code, 0, run.err);
        assert.match(run.out, /verdict: PASS \(exit 0\)/);
        assert.equal(run.err, `error: --report ${file}: could not write it (ENOENT); the run's result above stands\n`);
    });

    it("evaluates a --threshold override after the run: breached means exit 1", async () => {
        const run = await validate([
            "--url",
            echo.url,
            "--endpoints",
            "/ws",
            "--hold",
            "0",
            "--threshold",
            "handshake_p95_ms<0.001",
        ]);
        assert.equal(run.code, 1);
        assert.match(run.out, /FAIL handshake_p95_ms<0.001 +observed [\d.]+/);
        assert.doesNotMatch(run.out, /handshake_p95_ms<2000/);
    });

    it("sends --header values, reading ${VAR} from the environment", async () => {
        const server = keep(await authServer("Authorization", "Bearer s3cret"));
        const denied = await validate(["--url", server.url, "--endpoints", "/ws", ...SHORT]);
        assert.equal(denied.report!.endpoints[0].failures[0].evidence.status, 401);
        const allowed = await validate(
            ["--url", server.url, "--endpoints", "/ws", "--header", "Authorization: Bearer ${API_TOKEN}", ...SHORT],
            { env: { API_TOKEN: "s3cret" } },
        );
        assert.equal(allowed.code, 0, allowed.out);
    });

    it("offers --subprotocol and sends --origin, and reports what was negotiated", async () => {
        const server = keep(await protocolServer("chat.v2", "https://chat.example.com"));
        const refused = await validate(["--url", server.url, "--endpoints", "/ws", ...SHORT]);
        assert.equal(refused.report!.endpoints[0].failures[0].evidence.status, 403);
        const run = await validate([
            "--url",
            server.url,
            "--endpoints",
            "/ws",
            "--origin",
            "https://chat.example.com",
            "--subprotocol",
            "chat.v1",
            "--subprotocol",
            "chat.v2",
            ...SHORT,
        ]);
        assert.equal(run.code, 0, run.out);
        assert.equal(run.report!.endpoints[0].handshake.protocol, "chat.v2");
    });

    it("resolves staging from pulumi stack output --json", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-out-")), "outputs.json");
        fs.writeFileSync(
            file,
            JSON.stringify({
                websocketUrls: { "staging.chat.example.com": [`${echo.url}/ws`, `${echo.url}/ws/*`] },
                ipAddress: "203.0.113.1",
            }),
        );
        const run = await validate([
            "staging",
            "--stack-outputs",
            file,
            "--endpoints",
            "/ws",
            "--report",
            `${file}.report`,
            ...SHORT,
        ]);
        assert.equal(run.code, 0, run.err);
        assert.equal(run.report!.target.url, echo.url);
        assert.deepEqual(JSON.parse(fs.readFileSync(`${file}.report`, "utf8")).verdict, "pass");
    });

    for (const [args, message] of [
        [[], /give either --url wss:\/\/host\[:port\] or one environment name/],
        [["--url", "http://example.com"], /scheme http: is not ws: or wss:/],
        [["qa"], /unknown environment "qa"; known: local, staging, production/],
        [["local", "--hold-mode", "sometimes"], /--hold-mode "sometimes": allowed: idle, ping, both/],
        [["local", "--threshold", "latency<5"], /unknown metric latency; metrics: handshake_success_rate/],
        [["local", "--header", "Authorization: ${MISSING_TOKEN}"], /environment variable MISSING_TOKEN is not set/],
        [["local", "--hold=-1"], /--hold "-1": expected seconds from 0 to 172800/],
        [["local", "--hold", "-1"], /^error: --hold "-1": expected seconds from 0 to 172800\nusage:/],
        [["local", "--bogus"], /^error: unknown flag --bogus\n/],
        [
            ["local", "--probe-hold", "0"],
            /--probe-hold sets the endpoint probes' hold beside a load's; give --connections N too/,
        ],
        [["local", "--connections", "2", "--probe-hold", "-1"], /--probe-hold "-1": expected seconds from 0 to 172800/],
        [["local", "--hodl", "5"], /^error: unknown flag --hodl; did you mean --hold\?\n/],
        [
            ["local", "--stack-outputs", "outputs.json"],
            /--stack-outputs outputs.json: only names the host for staging or production; local uses the built-in echo server/,
        ],
        [
            ["--url", "ws://127.0.0.1:1/ws", "--endpoints", "/a"],
            /--url ws:\/\/127.0.0.1:1\/ws has a path \(\/ws\) and --endpoints is set too/,
        ],
        [
            ["local", "--report-html", "no-such-dir/r.html"],
            /--report-html no-such-dir\/r.html: folder no-such-dir does not exist/,
        ],
    ] as Array<[string[], RegExp]>) {
        it(`exits 2 on usage error: ${args.join(" ") || "(no target)"}`, async () => {
            const run = await validate(args);
            assert.equal(run.code, 2);
            assert.match(run.err, message);
            assert.equal(run.out, "");
        });
    }

    for (const [how, command, args] of [
        ["npm run -s validate", "npm", ["run", "-s", "validate", "--"]],
        ["npx ws-validate from the checkout", "npx", ["--offline", "ws-validate"]],
    ] as const) {
        it(`--json through ${how} is pure JSON on stdout`, async function () {
            this.timeout(120_000);
            const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
                const child = spawn(command, [...args, "local", "--endpoints", "/ws", "--hold", "0", "--json"], {
                    cwd: ROOT,
                    stdio: ["ignore", "pipe", "ignore"],
                });
                let stdout = "";
                child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
                child.on("error", reject);
                child.on("close", (code) => resolve({ code, stdout }));
            });
            // What is judged here is stdout, not the latency a loaded machine shows: the verdict may
            // be either, as long as stdout is the JSON report that gave the exit code.
            const report = JSON.parse(result.stdout) as Report;
            assert.equal(report.exitCode, result.code, result.stdout);
            assert.deepEqual(
                report.endpoints.map((e) => e.handshake.status),
                [101],
            );
        });
    }

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        it(`${signal} to the command stops it with the summary so far, exit 130`, async function () {
            this.timeout(120_000);
            const running = startTs("validator/cli.ts", [
                "--url",
                echo.url,
                "--endpoints",
                "/ws",
                "--monitor",
                "--interval",
                "0.2",
                "--duration",
                "600",
            ]);
            try {
                assert.ok(
                    await eventually(() => / ok +handshake/.test(running.output().stdout), 90_000),
                    running.output().stderr,
                );
                running.child.kill(signal);
                const exit = await running.exited;
                assert.equal(exit.code, 130, running.output().stderr);
                assert.match(running.output().stdout, /monitor: \d+ probes?, 0 failed \(0\.0%\), stopped early/);
                assert.match(running.output().stdout, /verdict: INTERRUPTED/);
                assert.match(
                    running.output().stderr,
                    signal === "SIGINT"
                        ? /Ctrl-C: stopping at the next safe point/
                        : /SIGTERM: stopping at the next safe point/,
                );
            } finally {
                running.child.kill("SIGKILL");
            }
        });
    }

    it("works as the ws-validate command, with its exit code", async function () {
        // A process of its own that starts ts-node: on a busy 2-core machine that alone takes a while.
        this.timeout(120_000);
        const result = await runTs("validator/bin/ws-validate.js", [
            "local",
            "--endpoints",
            "/ws",
            "--hold",
            "0",
            "--threshold",
            "message_latency_p95_ms<0.0001",
        ]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /verdict: FAIL \(exit 1\)/);
    });
});
