import { strict as assert } from "assert";
import * as fs from "fs";
import {
    CHAT_YAML,
    CHAT_YAML_SHORT,
    chatServers,
    check,
    relaxedEvents,
    scenarioFile,
    validate,
} from "./scenario-harness";

describe("validator --scenario: chat-level checks against real servers on 127.0.0.1", function () {
    this.timeout(60_000);
    const chat = chatServers();

    it("counts messages and captures a field for a later step", async () => {
        const server = await chat();
        const file = scenarioFile(`
defaults: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } }
checks:
  - name: five agent events
    steps:
      - connect: {}
      - expect: { json: { type: connected }, capture: { me: server } }
      - send: { json: { type: user_message, id: run-1, text: hi } }
      - expect: { match: { type: "^(agent|tool)_" }, count: 5, within: 2s }
      - send: { text: "I am on {{me}}" }
      - expect: { text: "I am on chat-1", within: 1s }
`);
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(run.code, 0, run.out + run.err);
        assert.equal(check(run, "five agent events").passed, 1);
    });

    it("turns a check into a small load with repeat and parallel", async () => {
        const server = await chat();
        const file = scenarioFile(`
checks:
  - name: echo load
    repeat: 30
    parallel: 10
    steps:
      - connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } }
      - send: { json: { type: echo, id: "{{uuid}}" } }
      - expect: { json: { id: "{{sent.id}}" } }
      - close: { code: 1000 }
`);
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(run.code, 0, run.out + run.err);
        const c = check(run, "echo load");
        assert.deepEqual([c.runs, c.passed], [30, 30]);
        assert.equal(server.connections(), 30);
    });

    it("fails on a timeout, naming the step, its line, what was expected and that nothing arrived", async () => {
        const server = await chat({ eventDelayMs: 400 });
        const run = await validate(["--url", server.url, "--scenario", CHAT_YAML_SHORT, "--json"]);
        assert.equal(run.code, 1);
        const c = check(run, "agent events in order within 100 ms");
        assert.equal(c.failed, 1);
        const [f] = c.failures;
        assert.equal(f.code, "STEP_TIMEOUT");
        assert.equal(f.step, 4);
        assert.equal(f.kind, "expect");
        assert.equal(
            f.line,
            fs
                .readFileSync(CHAT_YAML, "utf8")
                .split("\n")
                .findIndex((l) => l.includes("type: agent_started")) + 1,
        );
        assert.match(f.expected, /agent_started.*within 100 ms/);
        assert.ok(
            run.report!.thresholds.some((t) => t.threshold.metric === "check_success_rate" && t.passed === false),
        );
    });

    it("fails on a mismatch and shows the messages that did arrive", async () => {
        const server = await chat({ garbleEcho: true });
        const file = scenarioFile(`
checks:
  - name: echo
    steps:
      - connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } }
      - send: { json: { type: echo, id: abc, text: hello } }
      - expect: { json: { type: echo, text: hello }, within: 500ms }
`);
        const run = await validate(["--url", server.url, "--scenario", file]);
        assert.equal(run.code, 1);
        assert.match(run.out, /FAIL echo \(0\/1 passed/);
        assert.match(
            run.out,
            /step 3 \(expect, line 7\) STEP_MISMATCH: no matching message within 500 ms; 2 other message\(s\) arrived/,
        );
        assert.match(run.out, /garbled/);
        assert.match(run.out, /check_success_rate>=1 +observed 0/);
    });

    it("fails when agent events arrive out of order", async () => {
        const server = await chat({
            eventOrder: ["agent_started", "tool_executing", "agent_thinking", "tool_completed", "agent_completed"],
        });
        // About the order: a stall past the 100 ms deadline must not turn the mismatch into a timeout.
        const run = await validate(["--url", server.url, "--scenario", relaxedEvents(CHAT_YAML_SHORT), "--json"]);
        const [f] = check(run, "agent events in order within 100 ms").failures;
        assert.equal(f.code, "STEP_MISMATCH");
        assert.match(f.expected, /agent_thinking/);
        assert.match(f.received.at(-1)!, /tool_executing/);
    });

    it("fails on an unexpected close with the close code, and on a close code other than expected", async () => {
        const server = await chat({ cutAfterMs: 300 });
        const file = scenarioFile(`
checks:
  - name: hold
    steps:
      - connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } }
      - sleep: 3s
  - name: goodbye
    steps:
      - connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } }
      - send: { json: { type: bye, code: 4002 } }
      - close: { expect: 4001 }
`);
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(run.code, 1);
        const [cut] = check(run, "hold").failures;
        assert.equal(cut.code, "UNEXPECTED_CLOSE");
        assert.equal(cut.closeCode, 1006);
        assert.ok(cut.elapsedMs < 3000, `failed at ${cut.elapsedMs} ms, not at the end of the sleep`);
        const [bye] = check(run, "goodbye").failures;
        assert.equal(bye.code, "STEP_MISMATCH");
        assert.equal(bye.closeCode, 4002);
        assert.match(bye.message, /closed with code 4002, expected 4001/);
    });

    it("fails when an upgrade that must be refused with 403 is accepted, and when a valid client is refused", async () => {
        const open = await chat({ acceptWithoutToken: true });
        const run = await validate(["--url", open.url, "--scenario", CHAT_YAML_SHORT, "--json"]);
        const [f] = check(run, "upgrade without a token is refused").failures;
        assert.equal(f.code, "UNEXPECTED_STATUS");
        assert.equal(f.status, 101);
        assert.match(f.message, /accepted \(101\), expected HTTP 403/);

        const edgeless = await chat({ acceptForeignOrigin: true });
        const cswsh = await validate(["--url", edgeless.url, "--scenario", CHAT_YAML_SHORT, "--json"]);
        const [o] = check(cswsh, "upgrade from a foreign Origin is refused").failures;
        assert.equal(o.code, "UNEXPECTED_STATUS");
        assert.equal(o.status, 101);

        const strict = await chat();
        const file = scenarioFile(
            `checks: [{ name: wrong token, steps: [{ connect: { headers: { Authorization: "Bearer nope" } } }] }]`,
        );
        const refused = await validate(["--url", strict.url, "--scenario", file, "--json"]);
        const [g] = check(refused, "wrong token").failures;
        assert.equal(g.code, "UNEXPECTED_STATUS");
        assert.equal(g.status, 403);
        assert.deepEqual(g.received, ["token missing"]);
    });

    it("fails a step after a connect that was refused as expected: there is no connection to use", async () => {
        const server = await chat();
        const file = scenarioFile(
            `checks: [{ name: refused then send, steps: [{ connect: { status: 403 } }, { send: { text: hi } }] }]`,
        );
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(run.code, 1);
        const [f] = check(run, "refused then send").failures;
        assert.equal(f.kind, "send");
        assert.equal(f.step, 2);
        assert.match(f.message, /a send step needs an open connection, and no connect step before it opened one/);
    });

    it("fails a ping that gets no pong within its deadline", async () => {
        const server = await chat({ noPong: true });
        const file = scenarioFile(
            `checks: [{ name: ping, steps: [{ connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } } }, { ping: { within: 1s } }] }]`,
        );
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(run.code, 1);
        const [f] = check(run, "ping").failures;
        assert.equal(f.code, "STEP_TIMEOUT");
        assert.equal(f.kind, "ping");
        assert.equal(f.message, "no pong within 1000 ms");
    });

    it("fails a quiet period that is not quiet", async () => {
        const server = await chat();
        const file = scenarioFile(
            `{"checks": [{"name": "quiet", "steps": [{"connect": {"headers": {"Authorization": "Bearer \${CHAT_TOKEN}"}}}, {"expect": {"none": true, "within": "300ms"}}]}]}`,
            "json",
        );
        const run = await validate(["--url", server.url, "--scenario", file, "--json"]);
        const [f] = check(run, "quiet").failures;
        assert.equal(f.code, "STEP_MISMATCH");
        assert.match(f.received[0], /"type":"connected"/);
    });

    it("a threshold can accept some failed runs", async () => {
        const server = await chat({ cutAfterMs: 200 });
        const file = scenarioFile(`
checks:
  - name: fine
    steps: [{ connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } } }, { ping: {} }]
  - name: cut
    steps: [{ connect: { headers: { Authorization: "Bearer \${CHAT_TOKEN}" } } }, { sleep: 2s }]
`);
        const strict = await validate(["--url", server.url, "--scenario", file, "--json"]);
        assert.equal(strict.code, 1);
        assert.equal(strict.report!.metrics.check_success_rate, 0.5);
        const lenient = await validate([
            "--url",
            server.url,
            "--scenario",
            file,
            "--json",
            "--threshold",
            "check_success_rate>=0.5",
        ]);
        assert.equal(lenient.code, 0);
    });

    describe("the file is checked on load: one clear line with file and line, exit 2", () => {
        const cases: Array<[string, string, RegExp]> = [
            [
                "an unknown key",
                `checks:\n  - name: a\n    steps:\n      - connect: { path: /ws, methd: GET }\n`,
                /:4: checks\[0\]\.steps\[0\]\.connect\.methd: unknown key "methd"; allowed: path, headers, noDefaultHeaders, subprotocol, origin, status, within$/,
            ],
            [
                "a misspelt step",
                `checks:\n  - name: a\n    steps:\n      - connect: {}\n      - sned: { text: hi }\n`,
                /:5: checks\[0\]\.steps\[1\]\.sned: unknown key "sned"; allowed: connect, send, expect, sleep, ping, close$/,
            ],
            [
                "two kinds in one step",
                `checks:\n  - name: a\n    steps:\n      - connect: {}\n        send: { text: hi }\n`,
                /:4: checks\[0\]\.steps\[0\]: .*expected exactly one of connect, send, expect, sleep, ping, close$/,
            ],
            [
                "a bad duration",
                `checks:\n  - name: a\n    steps:\n      - connect: { within: 5 seconds }\n`,
                /:4: checks\[0\]\.steps\[0\]\.connect\.within: "5 seconds": must match pattern .* \(a duration such as 100ms, 5s or 1\.5m\)$/,
            ],
            [
                "a step before any connect",
                `checks:\n  - name: a\n    steps:\n      - send: { text: hi }\n`,
                /:4: checks\[0\]\.steps\[0\]\.send: a send step needs a connection: put a connect step before it$/,
            ],
            [
                "a variable never captured",
                `checks:\n  - name: a\n    steps:\n      - connect: {}\n      - send: { text: "{{session}}" }\n`,
                /:5: checks\[0\]\.steps\[1\]\.send: \{\{session\}\} is neither uuid, now/,
            ],
            [
                "an environment variable that is not set",
                `defaults:\n  headers:\n    Authorization: "Bearer \${NO_SUCH_TOKEN}"\nchecks: [{ name: a, steps: [{ connect: {} }] }]\n`,
                /:3: defaults\.headers\.Authorization: environment variable NO_SUCH_TOKEN is not set$/,
            ],
            [
                "a regex that does not compile",
                `checks:\n  - name: a\n    steps:\n      - connect: {}\n      - expect: { match: { text: "([" } }\n`,
                /:5: checks\[0\]\.steps\[1\]\.expect\.match\.text: "\(\[" is not a regular expression/,
            ],
            ["broken YAML", `checks:\n  - name: a\n   steps: [\n`, /:\d+: not valid YAML or JSON: /],
        ];
        for (const [what, text, message] of cases) {
            it(`rejects ${what}`, async () => {
                const file = scenarioFile(text);
                const run = await validate(["--url", "ws://127.0.0.1:9", "--scenario", file]);
                assert.equal(run.code, 2);
                assert.equal(run.out, "");
                const line = run.err.trim();
                assert.equal(line.split("\n").length, 1, run.err);
                assert.ok(line.startsWith(`error: ${file}:`), line);
                assert.match(line, message);
            });
        }
    });
});
