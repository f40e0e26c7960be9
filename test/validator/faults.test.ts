import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { WebSocketServer } from "ws";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { EchoServer, startEchoServer } from "../../validator";
import { Report } from "../../validator/report";
import { REGISTER, ROOT } from "../helpers/cli";
import { Closable, faultyServer } from "./servers";

// A PASS means the peer is alive: peers that stop answering, break the protocol or fail on their
// side, interrupts in every phase, and numbers and inputs a person gets wrong.

interface Run {
    code: number;
    out: string;
    err: string;
    report?: Report;
}

async function validate(
    args: string[],
    options: { signal?: AbortSignal; status?: (line: string, final?: boolean) => void } = {},
): Promise<Run> {
    let out = "";
    let err = "";
    // Latency bars are for real endpoints, not a loaded 2-core test machine.
    const relaxed = ["--threshold", "message_latency_p95_ms<60000", "--threshold", "handshake_p95_ms<60000"];
    const code = await main([...args, ...relaxed], {
        out: (t) => (out += t + "\n"),
        err: (t) => (err += t + "\n"),
        env: {},
        signal: options.signal,
        status: options.status,
    });
    const run: Run = { code, out, err };
    if (args.includes("--json") && code !== 2) {
        run.report = JSON.parse(out) as Report;
    }
    assert.equal(liveCount(), 0, "a socket was left open");
    return run;
}

/** A short hold of one endpoint with no echo: what each faulty peer is judged on. */
const HOLD = ["--endpoints", "/ws", "--messages", "0", "--hold", "3", "--ping-interval", "0.2", "--json"];

describe("validator: a PASS means the peer is alive", function () {
    this.timeout(30_000);
    let echo: EchoServer;
    const servers: Closable[] = [];
    const keep = <T extends Closable>(s: T) => (servers.push(s), s);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ws-faults-"));

    before(async () => {
        echo = await startEchoServer();
    });
    after(async () => {
        await echo.close();
        await Promise.all(servers.map((s) => s.close()));
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("a peer that stops answering or breaks the protocol fails the hold", () => {
        it("a peer that accepts the upgrade and answers no ping fails with PING_TIMEOUT, not a pass", async () => {
            const server = keep(await faultyServer("no-pong"));
            const run = await validate(["--url", server.url, ...HOLD, "--hold-mode", "ping"]);
            assert.equal(run.code, 1, run.out + run.err);
            const endpoint = run.report!.endpoints[0];
            assert.equal(endpoint.diagnosis, "no-pong", endpoint.diagnosisText);
            assert.match(endpoint.diagnosisText, /got no pong to \d+ pings \(0 pongs in all\)/);
            const [failure] = run.report!.failures;
            assert.equal(failure.code, "PING_TIMEOUT");
            assert.equal(failure.evidence.pongs, 0);
            assert.ok(failure.evidence.pings! >= 2, JSON.stringify(failure));
            // Given up after the missed pongs, not held to the end of the hold.
            assert.ok(endpoint.holds[0].elapsedSec < 3, JSON.stringify(endpoint.holds[0]));
        });

        it("the HTML report's hold chart says the peer gave no pong", async () => {
            const server = keep(await faultyServer("no-pong"));
            const file = path.join(tmp, "no-pong.html");
            const run = await validate(["--url", server.url, ...HOLD, "--hold-mode", "ping", "--report-html", file]);
            assert.equal(run.code, 1, run.out + run.err);
            assert.match(fs.readFileSync(file, "utf8"), /no pong: given up at [\d.]+ s/);
        });

        it("--max-missed-pongs sets how many pings in a row may go unanswered", async () => {
            const server = keep(await faultyServer("no-pong"));
            const run = await validate([
                "--url",
                server.url,
                ...HOLD,
                "--hold-mode",
                "ping",
                "--max-missed-pongs",
                "4",
            ]);
            assert.equal(run.code, 1, run.out + run.err);
            const [failure] = run.report!.failures;
            assert.equal(failure.code, "PING_TIMEOUT");
            assert.ok(failure.evidence.pings! >= 4, JSON.stringify(failure));
        });

        it("a peer that answers pings still passes a ping hold", async () => {
            const run = await validate(["--url", echo.url, ...HOLD, "--hold", "1", "--hold-mode", "ping"]);
            assert.equal(run.code, 0, run.out + run.err);
            const [hold] = run.report!.endpoints[0].holds;
            assert.ok(hold.pongs > 0 && hold.pings! >= hold.pongs, JSON.stringify(hold));
        });

        for (const [fault, code, closeCode, diagnosis] of [
            ["invalid-frame", "INVALID_FRAME", 1002, "protocol-error"],
            ["oversize-frame", "FRAME_TOO_LARGE", 1009, "protocol-error"],
            ["1011", "SERVER_ERROR", 1011, "server-error"],
        ] as const) {
            it(`a server that sends ${fault === "1011" ? "close 1011" : `an ${fault}`} fails the hold with ${code}, and the diagnosis names it`, async () => {
                const server = keep(await faultyServer(fault, 200));
                const run = await validate(["--url", server.url, ...HOLD]);
                assert.equal(run.code, 1, run.out + run.err);
                const endpoint = run.report!.endpoints[0];
                assert.equal(endpoint.diagnosis, diagnosis, endpoint.diagnosisText);
                assert.match(endpoint.diagnosisText, new RegExp(`ended with ${closeCode} at`));
                assert.doesNotMatch(endpoint.diagnosisText, /lifetime cap|backend timeout;/);
                assert.deepEqual(
                    run.report!.failures.map((f) => f.code),
                    [code, code],
                );
            });
        }

        it("the text report says what ended the connection and why", async () => {
            const server = keep(await faultyServer("invalid-frame", 200));
            const run = await validate(["--url", server.url, ...HOLD.filter((a) => a !== "--json")]);
            assert.equal(run.code, 1, run.out + run.err);
            assert.match(run.out, /hold idle CLOSED at [\d.]+ s on a frame ws refused \(WS_ERR_INVALID_OPCODE: /);
            assert.match(run.out, /INVALID_FRAME: the idle connection ended with 1002 after/);
            assert.match(run.out, /verdict: FAIL \(exit 1\)/);
        });
    });

    describe("interrupts and partial results", () => {
        it("Ctrl-C during a scenario sleep stops it: INTERRUPTED and exit 130, never PASS", async () => {
            const scenario = path.join(tmp, "sleep.yaml");
            fs.writeFileSync(
                scenario,
                "checks:\n  - name: idle\n    steps:\n      - connect: {}\n      - sleep: 10m\n",
            );
            // Ctrl-C once the scenario's connection is open and its sleep under way.
            const controller = new AbortController();
            const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
            server.on("connection", () => setTimeout(() => controller.abort(), 300));
            await new Promise((resolve) => server.once("listening", resolve));
            const started = Date.now();
            try {
                const { port } = server.address() as AddressInfo;
                const run = await validate(["--url", `ws://127.0.0.1:${port}`, "--scenario", scenario], {
                    signal: controller.signal,
                });
                assert.equal(run.code, 130, run.out + run.err);
                assert.match(run.out, /verdict: INTERRUPTED/);
                assert.doesNotMatch(run.out, /PASS/);
                assert.match(run.out, /FAIL idle \(0\/1 passed/);
                assert.match(
                    run.out,
                    /step 2 \(sleep, line 5\) INTERRUPTED: stopped by an interrupt [\d.]+ s into a 600 s sleep/,
                );
                // Far from the 10 minutes the sleep asked for: the interrupt ended it.
                assert.ok(Date.now() - started < 60_000);
            } finally {
                await new Promise((resolve) => server.close(resolve));
            }
        });

        it("an interrupted hold does not count as reached", async () => {
            const controller = new AbortController();
            const file = path.join(tmp, "interrupted-hold.json");
            const run = await validate(
                ["--url", echo.url, "--endpoints", "/ws", "--messages", "0", "--hold", "600", "--report", file],
                { signal: controller.signal, status: (line) => /hold [1-9]/.test(line) && controller.abort() },
            );
            assert.equal(run.code, 130, run.out + run.err);
            const report = JSON.parse(fs.readFileSync(file, "utf8")) as Report;
            assert.ok(
                report.endpoints[0].holds.every((h) => h.interrupted),
                JSON.stringify(report.endpoints[0].holds),
            );
            assert.equal(report.metrics.hold_reached_rate, 0);
            assert.match(run.out, /hold idle stopped by an interrupt at [\d.]+ s, not held to the end/);
        });

        it("an interrupted load says how many of the asked connections opened", async () => {
            const controller = new AbortController();
            const run = await validate(
                ["--url", echo.url, "--endpoints", "/ws", "--hold", "0", "--connections", "100000", "--rate", "20"],
                {
                    signal: controller.signal,
                    status: (line) => / [1-9]\d*\/100000 opened/.test(line) && controller.abort(),
                },
            );
            assert.equal(run.code, 130, run.out + run.err);
            const [, opened, started] =
                /^load: interrupted: (\d+) of the 100000 asked connections opened \((\d+) started\)/m.exec(run.out) ??
                assert.fail(run.out);
            assert.ok(Number(opened) > 0 && Number(opened) <= Number(started), run.out);
        });
    });

    describe("every duration and count has bounds", () => {
        for (const [args, message] of [
            [["--hold", "1e10"], /^error: --hold "1e10": expected seconds from 0 to 172800$/m],
            [["--ping-interval", "1e10"], /^error: --ping-interval "1e10": expected seconds from 0.01 to 3600$/m],
            [["--message-timeout", "1e10"], /^error: --message-timeout "1e10": expected seconds from 0.01 to 3600$/m],
            [["--handshake-timeout", "0"], /^error: --handshake-timeout "0": expected seconds from 0.01 to 3600$/m],
            [
                ["--connections", "10", "--rate", "1e-9"],
                /^error: --rate "1e-9": expected connections per second from 0.01 to 100000$/m,
            ],
            [["--rate", "1e-9"], /^error: --rate "1e-9": expected connections per second from 0.01/m],
            [
                ["--connections", "0.5"],
                /^error: --connections "0.5": expected a whole number of connections from 1 to 1000000$/m,
            ],
            [["--messages", "2.5"], /^error: --messages "2.5": expected a whole number of messages from 0 to 100000$/m],
            [["--monitor", "--interval", "0"], /^error: --interval "0": expected seconds from 0.05 to 3600$/m],
            [["--monitor", "--duration", "1e12"], /^error: --duration "1e12": expected seconds from 0.1 to 172800$/m],
            [
                ["--max-missed-pongs", "0"],
                /^error: --max-missed-pongs "0": expected a whole number of pings from 1 to 100$/m,
            ],
            [["--max-missed-pongs", "1.5"], /^error: --max-missed-pongs "1.5": expected a whole number of pings/m],
            [
                ["--affinity", "0.5"],
                /^error: --affinity "0.5": expected a whole number of reconnections from 1 to 1000$/m,
            ],
        ] as Array<[string[], RegExp]>) {
            it(`exits 2 naming the flag, the value and the range: ${args.join(" ")}`, async () => {
                const run = await validate(["local", ...args]);
                assert.equal(run.code, 2, run.out + run.err);
                assert.match(run.err, message);
                assert.equal(run.out, "");
            });
        }

        for (const [step, message] of [
            [
                "sleep: 40000m",
                /sleep\.yaml:5: checks\[0\]\.steps\[1\]\.sleep: "40000m": expected a duration up to 2880m \(172800 s\)/,
            ],
            [
                "expect: { text: hi, within: 3000m }",
                /sleep\.yaml:5: checks\[0\]\.steps\[1\]\.expect\.within: "3000m": expected a duration up to 2880m/,
            ],
        ] as const) {
            it(`a scenario's ${step.split(":")[0]} past the longest wait is exit 2 with its line and the range`, async () => {
                const scenario = path.join(tmp, "sleep.yaml");
                fs.writeFileSync(
                    scenario,
                    `checks:\n  - name: long\n    steps:\n      - connect: {}\n      - ${step}\n`,
                );
                const run = await validate(["--url", echo.url, "--scenario", scenario]);
                assert.equal(run.code, 2, run.out + run.err);
                assert.match(run.err, message);
            });
        }
    });

    describe("inputs a person gets wrong, and the first thing everyone types", () => {
        it("takes a bare URL as the first argument, its path the endpoint, as wscat and k6 do", async () => {
            const run = await validate([`${echo.url}/ws`, "--hold", "0", "--messages", "2", "--json"]);
            assert.equal(run.code, 0, run.out + run.err);
            assert.deepEqual(
                run.report!.endpoints.map((e) => e.endpoint),
                ["/ws"],
            );
            assert.equal(run.report!.target.source, "URL");
        });

        for (const [args, message] of [
            [
                ["ws://127.0.0.1:1/ws", "--url", "ws://127.0.0.1:1"],
                /^error: unexpected argument "ws:\/\/127.0.0.1:1\/ws"/m,
            ],
            [["http://127.0.0.1:1/ws"], /^error: URL "http:\/\/127.0.0.1:1\/ws": scheme http: is not ws: or wss:/m],
            [["ws://127.0.0.1:1/ws", "--endpoints", "/a"], /^error: URL ws:\/\/127.0.0.1:1\/ws has a path \(\/ws\)/m],
            [
                ["local", "--report", path.join(tmp, "same.json"), "--report-html", `${tmp}/./same.json`],
                /^error: --report and --report-html are both .*same.json: the second would overwrite the first/m,
            ],
            [
                ["local", "--origin", "https://chat.example.com/ws"],
                /^error: --origin "https:\/\/chat.example.com\/ws": expected an origin/m,
            ],
            [["local", "--origin", "chat.example.com"], /^error: --origin "chat.example.com": expected an origin/m],
            [["local", "--subprotocol", "chat v2"], /^error: --subprotocol "chat v2": expected a name of letters/m],
            [
                ["local", "--subprotocol", "chat", "--subprotocol", "chat"],
                /^error: --subprotocol "chat": offered twice/m,
            ],
        ] as Array<[string[], RegExp]>) {
            it(`exits 2 with one line naming the input: ${args.join(" ")}`, async () => {
                const run = await validate(args);
                assert.equal(run.code, 2, run.out + run.err);
                assert.match(run.err, message);
                assert.equal(run.out, "");
            });
        }

        it("--ca with a file that holds no certificate is exit 2 before any connection", async () => {
            for (const [content, message] of [
                ["not a certificate\n", /^error: --ca .*: holds no certificate; expected PEM certificates/m],
                [
                    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
                    /^error: --ca .*: certificate 1 cannot be read/m,
                ],
            ] as const) {
                const file = path.join(tmp, "ca.pem");
                fs.writeFileSync(file, content);
                const run = await validate(["local", "--ca", file]);
                assert.equal(run.code, 2, run.out + run.err);
                assert.match(run.err, message);
            }
        });

        it("--json to a full device is one error line, not a stack trace, and the exit code still gives the verdict", async function () {
            if (!fs.existsSync("/dev/full")) {
                this.skip();
            }
            this.timeout(120_000);
            const full = fs.openSync("/dev/full", "w");
            try {
                const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
                    const child = spawn(
                        process.execPath,
                        ["-r", REGISTER, path.join(ROOT, "validator/cli.ts"), "local", "--endpoints", "/ws"]
                            .concat(["--hold", "0", "--messages", "1", "--json"])
                            .concat([
                                "--threshold",
                                "message_latency_p95_ms<60000",
                                "--threshold",
                                "handshake_p95_ms<60000",
                            ]),
                        { cwd: ROOT, stdio: ["ignore", full, "pipe"] },
                    );
                    let stderr = "";
                    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
                    child.on("error", reject);
                    child.on("close", (code) => resolve({ code, stderr }));
                });
                assert.equal(result.code, 0, result.stderr);
                assert.match(result.stderr, /^error: standard output: could not write to it \(ENOSPC\)/m);
                assert.doesNotMatch(result.stderr, /\n\s+at /);
            } finally {
                fs.closeSync(full);
            }
        });
    });
});
