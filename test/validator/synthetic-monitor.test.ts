import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import { FAILED_RUN_FIELD, FAILED_RUN_VALUE, functionSourceFiles, PROJECT_DIR } from "../../infra/synthetic-monitor";
import { SyntheticMonitorSettings } from "../../infra/settings";
import { ChatServer, startChatServer } from "./chat-server";

// The synthetic monitor's code as Cloud Functions gets it: the files of the source zip written
// to a folder and run from there (JavaScript, not the TypeScript of this checkout), against the
// local chat server.

const TOKEN = "monitor-token";

type RunChatChecks = (
    env: NodeJS.ProcessEnv,
    logger: { info(m: string): void; error(m: string): void },
) => Promise<unknown>;

/**
 * A module of the unpacked function, loaded as Cloud Functions loads it: CommonJS written at run
 * time, so no import can name it, and synchronously, as the function's own require calls expect.
 */
function loadUnpacked(file: string): unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: the file exists only at run time
    return require(file);
}

/** The zip's files in a folder, with the project's node_modules standing in for Cloud Build's install. */
function unpackFunction(scenarioText: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-synthetic-"));
    const scenario = path.join(dir, "..", `${path.basename(dir)}-chat.yaml`);
    fs.writeFileSync(scenario, scenarioText);
    const settings: SyntheticMonitorSettings = {
        enabled: true,
        periodSec: 60,
        region: "us-central1",
        scenario,
        tokenSecret: "",
    };
    for (const [file, text] of Object.entries(functionSourceFiles(settings))) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

describe("synthetic monitor: the function's handler, run from its built source against the local chat server", function () {
    this.timeout(60_000);
    // The shipped suite with a 1 s hold, so the test does not wait 40 s, and 2 s for each agent
    // event, because this shared 2-core machine can stall a process for longer than 100 ms.
    const scenarioText = fs
        .readFileSync(path.join(PROJECT_DIR, "validator/scenarios/chat.yaml"), "utf8")
        .replace("sleep: 40s", "sleep: 1s")
        .replace(/within: 100ms/g, "within: 2s");
    let dir: string;
    let runChatChecks: RunChatChecks;
    const servers: ChatServer[] = [];
    const env = (server: { url: string }) => ({
        WS_VALIDATE_URL: server.url,
        WS_VALIDATE_SCENARIO: `scenarios/${path.basename(dir)}-chat.yaml`,
        CHAT_TOKEN: TOKEN,
    });

    before(() => {
        dir = unpackFunction(scenarioText);
        runChatChecks = (
            loadUnpacked(path.join(dir, "validator", "synthetic-monitor.js")) as { runChatChecks: RunChatChecks }
        ).runChatChecks;
    });
    after(async () => {
        await Promise.all(servers.map((s) => s.close()));
    });

    it("passes against a healthy chat server", async () => {
        const server = await startChatServer({ token: TOKEN });
        servers.push(server);
        const lines: string[] = [];
        await runChatChecks(env(server), { info: (m) => lines.push(m), error: (m) => lines.push(m) });
        assert.equal(lines.length, 9, lines.join("\n"));
        assert.ok(
            lines.every((l) => l.startsWith("ok ")),
            lines.join("\n"),
        );
    });

    it("fails, naming the check, the step and the evidence, when the server lets a client in without a token", async () => {
        const server = await startChatServer({ token: TOKEN, acceptWithoutToken: true });
        servers.push(server);
        const errors: string[] = [];
        await assert.rejects(
            runChatChecks(env(server), { info: () => undefined, error: (m) => errors.push(m) }),
            (e: Error) => {
                assert.equal(e.name, "ChatCheckFailed");
                assert.match(
                    e.message,
                    /^1 of 9 chat checks failed against ws:\/\/127\.0\.0\.1:\d+: upgrade without a token is refused: step 1 \(connect, line \d+\) UNEXPECTED_STATUS: the upgrade of \/ws was accepted \(101\), expected HTTP 403/,
                );
                return true;
            },
        );
        assert.equal(errors.length, 1);
    });

    it("fails when agent events are later than their deadline, and when nothing listens", async () => {
        const slow = await startChatServer({ token: TOKEN, eventDelayMs: 3000 });
        servers.push(slow);
        await assert.rejects(
            runChatChecks(env(slow), { info: () => undefined, error: () => undefined }),
            /agent events in order within 100 ms: step 4 \(expect, line \d+\) STEP_TIMEOUT/,
        );
        const gone = await startChatServer({ token: TOKEN });
        await gone.close();
        await assert.rejects(
            runChatChecks(env(gone), { info: () => undefined, error: () => undefined }),
            /9 of 9 chat checks failed .*CONNECTION_REFUSED/,
        );
    });

    it("fails with a clear message when the URL is not configured", async () => {
        await assert.rejects(
            runChatChecks({}, { info: () => undefined, error: () => undefined }),
            /^ChatCheckFailed: WS_VALIDATE_URL "": expected the ws:\/\/ or wss:\/\/ base URL to check$/,
        );
    });

    /**
     * The entry file with Google's real synthetics SDK (@google-cloud/synthetics-sdk-api 0.7.0, the
     * version the function ships) behind a loopback HTTP server. The functions framework is
     * Express: the SDK's handler calls `req.get(header)` and `res.send(result)`, and Express
     * answers an object with its JSON and the status already set (200 unless changed); this
     * adapter does the same. Lines the entry file logs are collected.
     */
    async function serveEntry(): Promise<{ url: string; logged: string[]; close(): Promise<void> }> {
        const registered: Record<string, (req: unknown, res: unknown) => Promise<void>> = {};
        const logged: string[] = [];
        const stubs: Record<string, unknown> = {
            "@google-cloud/functions-framework": {
                http: (name: string, handler: (req: unknown, res: unknown) => Promise<void>) =>
                    (registered[name] = handler),
            },
        };
        const entry = fs.readFileSync(path.join(dir, "index.js"), "utf8");
        const sandboxRequire = (id: string) =>
            id in stubs
                ? stubs[id]
                : loadUnpacked(id.startsWith(".") ? path.join(dir, id) : require.resolve(id, { paths: [dir] }));
        const sandboxConsole = { log: (line: string) => logged.push(line), error: (line: string) => logged.push(line) };
        vm.runInNewContext(`(function (require) {${entry}\n})`, { console: sandboxConsole })(sandboxRequire);
        const handler = registered.chatSynthetic;
        const server = http.createServer((req, res) => {
            const expressReq = { get: (name: string) => req.headers[name.toLowerCase()] };
            const expressRes = {
                send: (body: unknown) => {
                    res.setHeader("content-type", "application/json");
                    res.end(JSON.stringify(body));
                },
            };
            handler(expressReq, expressRes).catch((e: unknown) => {
                res.statusCode = 500;
                res.end(String(e));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return {
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
            logged,
            close: () => new Promise<void>((resolve) => server.close(() => resolve())),
        };
    }

    async function withEnv<T>(vars: Record<string, string>, run: () => Promise<T>): Promise<T> {
        const saved = { ...process.env };
        Object.assign(process.env, vars);
        try {
            return await run();
        } finally {
            for (const key of Object.keys(vars)) {
                if (saved[key] === undefined) {
                    delete process.env[key];
                } else {
                    process.env[key] = saved[key];
                }
            }
        }
    }

    it("Google's SDK answers 200 for a failed check as for a passed one; only the body's ok and the entry's log line tell them apart", async () => {
        const healthy = await startChatServer({ token: TOKEN });
        const failing = await startChatServer({ token: TOKEN, acceptWithoutToken: true });
        servers.push(healthy, failing);
        const entry = await serveEntry();
        try {
            const call = async (server: { url: string }) =>
                withEnv(env(server), async () => {
                    const response = await fetch(entry.url, {
                        method: "POST",
                        headers: { "Synthetic-Execution-Id": "run-1" },
                    });
                    const body = (await response.json()) as {
                        synthetic_generic_result_v1?: { ok?: boolean; generic_error?: { error_message?: string } };
                    };
                    return { status: response.status, result: body.synthetic_generic_result_v1 };
                });
            const passed = await call(healthy);
            assert.equal(passed.status, 200);
            assert.equal(passed.result?.ok, true);
            assert.deepEqual(entry.logged, [], "a passed run writes no failed-run line");
            const failed = await call(failing);
            // What synthetics-sdk-nodejs #157 reports, seen here: HTTP 200 for a failed check.
            assert.equal(failed.status, 200);
            assert.equal(failed.result?.ok, false);
            assert.match(failed.result?.generic_error?.error_message ?? "", /1 of 9 chat checks failed/);
            // The signal the chat-degradation alert counts: one structured line, severity ERROR.
            assert.equal(entry.logged.length, 1);
            const line = JSON.parse(entry.logged[0]) as Record<string, string>;
            assert.equal(line.severity, "ERROR");
            assert.equal(line[FAILED_RUN_FIELD], FAILED_RUN_VALUE);
            assert.match(line.message, /upgrade without a token is refused/);
        } finally {
            await entry.close();
        }
    });

    it("the entry file hands syntheticCheck to the SDK's runSyntheticHandler under the entry point the function declares", async () => {
        const registered: Record<string, unknown> = {};
        const stubs: Record<string, unknown> = {
            "@google-cloud/functions-framework": {
                http: (name: string, handler: unknown) => (registered[name] = handler),
            },
            // The SDK's contract (handlers.d.ts): it calls the code with {logger, executionId}; resolve is ok, throw is a failure.
            "@google-cloud/synthetics-sdk-api": { runSyntheticHandler: (code: unknown) => code },
        };
        const entry = fs.readFileSync(path.join(dir, "index.js"), "utf8");
        const sandboxRequire = (id: string) => (id in stubs ? stubs[id] : loadUnpacked(path.join(dir, id)));
        vm.runInNewContext(`(function (require) {${entry}\n})`, {})(sandboxRequire);
        assert.deepEqual(Object.keys(registered), ["chatSynthetic"]);
        const server = await startChatServer({ token: TOKEN });
        servers.push(server);
        const saved = { ...process.env };
        Object.assign(process.env, env(server));
        try {
            await (
                registered.chatSynthetic as (args: {
                    logger: { info(m: string): void; error(m: string): void };
                }) => Promise<void>
            )({ logger: { info: () => undefined, error: () => undefined } });
        } finally {
            for (const key of Object.keys(env(server))) {
                if (saved[key] === undefined) {
                    delete process.env[key];
                } else {
                    process.env[key] = saved[key];
                }
            }
        }
    });
});
