// What the --scenario test files share: running the validator in-process, scenario files, the chat server.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { Report } from "../../validator/report";
import { CheckResult } from "../../validator/scenario/run";
import { ChatServer, ChatServerOptions, startChatServer } from "./chat-server";

export const CHAT_YAML = path.resolve(__dirname, "..", "..", "validator", "scenarios", "chat.yaml");
const TOKEN = "s3cret-token";

export interface Run {
    code: number;
    out: string;
    err: string;
    report?: Report;
}

export async function validate(args: string[], env: NodeJS.ProcessEnv = { CHAT_TOKEN: TOKEN }): Promise<Run> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env });
    const run: Run = { code, out, err };
    if (args.includes("--json") && code !== 2) {
        run.report = JSON.parse(out) as Report;
    }
    assert.equal(liveCount(), 0, "a socket was left open");
    return run;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-scenarios-"));
let fileCount = 0;
export function scenarioFile(text: string, ext = "yaml"): string {
    const file = path.join(dir, `s${++fileCount}.${ext}`);
    fs.writeFileSync(file, text);
    return file;
}

/** The shipped suite with a 1 s hold: the same checks on the same lines, for the failure tests. */
export const CHAT_YAML_SHORT = scenarioFile(fs.readFileSync(CHAT_YAML, "utf8").replace("sleep: 40s", "sleep: 1s"));

/**
 * A suite with 2 s instead of 100 ms for each agent event: this shared 2-core machine can stall
 * a process for longer than 100 ms, so a test about something else (the steps passing, the
 * order) must not hang on that deadline.
 */
export function relaxedEvents(file: string): string {
    return scenarioFile(fs.readFileSync(file, "utf8").replace(/within: 100ms/g, "within: 2s"));
}

export function check(run: Run, name: string): CheckResult {
    const found = run.report?.scenario?.checks.find((c) => c.name === name);
    assert.ok(found, `no check ${name} in ${run.out}${run.err}`);
    return found;
}

/** Chat servers that the calling describe's tests start, all closed after it. Call inside a describe. */
export function chatServers(): (options?: ChatServerOptions) => Promise<ChatServer> {
    const servers: ChatServer[] = [];
    after(async () => {
        await Promise.all(servers.map((s) => s.close()));
    });
    return async (options: ChatServerOptions = {}) => {
        const s = await startChatServer({ token: TOKEN, ...options });
        servers.push(s);
        return s;
    };
}
