import { strict as assert } from "assert";
import * as http from "http";
import * as net from "net";
import { WebSocketServer } from "ws";
import { main } from "../../validator/cli";
import { FAILURE_CODES, HANDSHAKE_FAILURES } from "../../validator";
import { evaluate, parseThreshold, ThresholdError, thresholdsFrom } from "../../validator/report/thresholds";
import { Report } from "../../validator/report";
import { render } from "../../validator/scenario/template";

/**
 * One server, a different peer per path: /ws echoes, /mute answers nothing, /mangle echoes
 * something else, /bye closes on the first message, /refused answers 403 to the upgrade.
 */
async function pathServer(): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const sockets = new Set<net.Socket>();
    server.on("connection", (s: net.Socket) => (sockets.add(s), s.on("close", () => sockets.delete(s))));
    server.on("upgrade", (req, socket: net.Socket, head) => {
        if (req.url === "/refused") {
            socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on("error", () => undefined);
            ws.on("message", (data, binary) => {
                if (req.url === "/mangle") {
                    ws.send(Buffer.concat([Buffer.from("not "), Buffer.from(data as Buffer)]));
                } else if (req.url === "/bye") {
                    ws.close(1000, "bye");
                } else if (req.url !== "/mute") {
                    ws.send(data, { binary });
                }
            });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        url: `ws://127.0.0.1:${port}`,
        close: () =>
            new Promise((done) => {
                sockets.forEach((s) => s.destroy());
                server.close(() => done());
            }),
    };
}

async function run(args: string[]): Promise<{ code: number; report: Report; out: string }> {
    let out = "";
    const code = await main(
        [
            ...args,
            "--json",
            "--messages",
            "2",
            "--hold",
            "0",
            "--message-timeout",
            "1",
            "--threshold",
            "handshake_p95_ms<60000",
            "--threshold",
            "message_latency_p95_ms<60000",
        ],
        { out: (t) => (out += t + "\n"), err: () => undefined, env: {} },
    );
    return { code, report: JSON.parse(out) as Report, out };
}

describe("validator: verdicts on partial failures (real servers on 127.0.0.1)", function () {
    this.timeout(20_000);
    let server: Awaited<ReturnType<typeof pathServer>>;
    before(async () => (server = await pathServer()));
    after(() => server.close());

    it("counts success rates over every attempt: one refused handshake of four is 0.75", async () => {
        const { code, report } = await run(["--url", server.url, "--endpoints", "/ws,/refused,/mute,/bye"]);
        assert.equal(code, 1);
        assert.equal(report.metrics.handshake_success_rate, 0.75);
        // Three opened; /bye was cut while waiting for its echo, /mute stayed up but silent.
        assert.equal(report.metrics.connection_success_rate, 2 / 3);
        const byPath = new Map(report.endpoints.map((e) => [e.endpoint, e.failures.map((f) => f.code)]));
        assert.deepEqual(byPath.get("/ws"), []);
        assert.deepEqual(byPath.get("/refused"), ["HANDSHAKE_REFUSED"]);
        assert.deepEqual(byPath.get("/mute"), ["ECHO_TIMEOUT"]);
        assert.deepEqual(byPath.get("/bye"), ["ECHO_TIMEOUT"]);
    });
    it("fails a probe whose echo comes back different", async () => {
        const { code, report } = await run(["--url", server.url, "--endpoints", "/mangle"]);
        assert.equal(code, 1);
        assert.deepEqual(
            report.endpoints[0].failures.map((f) => f.code),
            ["ECHO_MISMATCH"],
        );
        assert.equal(report.metrics.handshake_success_rate, 1);
    });
    it("a connection cut while waiting for its echo did not stay up", async () => {
        const { report } = await run(["--url", server.url, "--endpoints", "/ws,/bye"]);
        assert.equal(report.metrics.connection_success_rate, 1 / 2);
    });
    it("an echo failure keeps what was sent, what came back and how the connection closed", async () => {
        const { report } = await run(["--url", server.url, "--endpoints", "/mangle,/mute,/bye"]);
        const [mangle, mute, bye] = report.endpoints;
        for (const e of [mangle, mute, bye]) {
            assert.deepEqual([e.roundTrip?.sent, e.roundTrip?.received], [1, 0], e.endpoint);
        }
        for (const e of [mangle, mute]) {
            assert.match(String(e.failures[0].evidence.expected), /^ws-validate 0 [0-9a-f]{12}$/, e.endpoint);
        }
        assert.equal(mangle.failures[0].evidence.received, `not ${String(mangle.failures[0].evidence.expected)}`);
        assert.deepEqual([bye.failures[0].evidence.closeCode, bye.failures[0].evidence.closeReason], [1000, "bye"]);
    });
    it("times each echo: two samples, each above zero", async () => {
        const { report } = await run(["--url", server.url, "--endpoints", "/ws"]);
        const latency = report.endpoints[0].roundTrip!.latencyMs;
        assert.equal(latency.count, 2);
        assert.ok(latency.max! > 0 && latency.p50! > 0, JSON.stringify(latency));
    });
    it("passes the same server on its echoing path", async () => {
        const { code, report } = await run(["--url", server.url, "--endpoints", "/ws"]);
        assert.equal(code, 0);
        assert.equal(report.metrics.handshake_success_rate, 1);
        assert.equal(report.metrics.connection_success_rate, 1);
    });
});

describe("validator: thresholds", () => {
    const judge = (text: string, value: number) =>
        evaluate([parseThreshold(text)], { handshake_p95_ms: value })[0].passed;
    it("applies each operator at, below and above its bound", () => {
        assert.deepEqual(
            [
                judge("handshake_p95_ms<=500", 499),
                judge("handshake_p95_ms<=500", 500),
                judge("handshake_p95_ms<=500", 501),
            ],
            [true, true, false],
        );
        assert.deepEqual(
            [
                judge("handshake_p95_ms>500", 499),
                judge("handshake_p95_ms>500", 500),
                judge("handshake_p95_ms>500", 501),
            ],
            [false, false, true],
        );
        assert.deepEqual([judge("handshake_p95_ms<500", 499), judge("handshake_p95_ms<500", 500)], [true, false]);
        assert.deepEqual([judge("handshake_p95_ms>=500", 499), judge("handshake_p95_ms>=500", 500)], [false, true]);
    });
    it("leaves a metric the run did not measure undecided", () => {
        assert.deepEqual(evaluate([parseThreshold("hold_reached_rate>=1")], { handshake_p95_ms: 1 })[0], {
            threshold: parseThreshold("hold_reached_rate>=1"),
        });
    });
    it("reads percentages and spaces, and keeps the text it was given", () => {
        assert.deepEqual(parseThreshold(" handshake_success_rate >= 95% "), {
            metric: "handshake_success_rate",
            operator: ">=",
            value: 0.95,
            source: "handshake_success_rate >= 95%",
        });
        assert.equal(parseThreshold("handshake_p95_ms<.5").value, 0.5);
    });
    it("rejects trailing junk, a missing number and a doubled operator, naming the text", () => {
        for (const text of [
            "handshake_p95_ms<500ms",
            "handshake_p95_ms<500 x",
            "handshake_p95_ms<",
            "handshake_p95_ms<<5",
            "x handshake_p95_ms<5",
            "handshake_p95_ms<1.2.3",
        ]) {
            assert.throws(
                () => parseThreshold(text),
                (e: unknown) =>
                    e instanceof ThresholdError &&
                    e.message.startsWith(`--threshold ${JSON.stringify(text)}: expected METRIC OP NUMBER`),
                text,
            );
        }
    });
});

describe("validator: default thresholds and templates", () => {
    it("judges a run by the staging incident report's bars unless a threshold of the same metric replaces one", () => {
        const sources = thresholdsFrom(["handshake_p95_ms<60000"]).map((t) => t.source);
        for (const bar of ["handshake_success_rate>=0.95", "connection_success_rate>=0.98", "handshake_p95_ms<60000"]) {
            assert.ok(sources.includes(bar), `${bar} not judged: ${sources.join(", ")}`);
        }
        assert.ok(!sources.includes("handshake_p95_ms<2000"), sources.join(", "));
    });
    it("fills a template inside a string with spaces inside its braces", () => {
        const vars = new Map<string, unknown>([["room", "r1"]]);
        assert.equal(render("join {{ room }} now", vars, undefined), "join r1 now");
        assert.equal(render("join {{room}}", vars, undefined), "join r1");
    });
});

describe("validator: failure codes", () => {
    it("counts exactly the codes where no WebSocket opened as handshake failures", () => {
        assert.deepEqual([...HANDSHAKE_FAILURES].sort(), [
            "CONNECTION_REFUSED",
            "CONNECTION_RESET",
            "DNS_FAILED",
            "HANDSHAKE_REFUSED",
            "HANDSHAKE_TIMEOUT",
            "PROTOCOL_ERROR",
            "TLS_FAILED",
        ]);
        for (const code of HANDSHAKE_FAILURES) {
            assert.ok(code in FAILURE_CODES, code);
        }
    });
});
