import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { eventually, isRunning, ROOT } from "../helpers/cli";

const REGISTER = path.join(ROOT, "cli", "register.js");
const HOST = path.join(ROOT, "tools", "pulumi-language-nodejs", "main.ts");

// A CLI killed with kill -9 never tells its language host to stop: the host must notice alone.
describe("tools: the Node.js language host ends when the CLI that started it dies", function () {
    this.timeout(60_000);

    it("kill -9 to its parent: the host exits within seconds", async () => {
        // The parent stands in for the CLI: it starts the host, prints the host's pid once the host
        // serves (its port on stdout, as the CLI reads it), then waits to be killed.
        const parentScript = `
            const { spawn } = require("child_process");
            const host = spawn(process.execPath, ["-r", ${JSON.stringify(REGISTER)}, ${JSON.stringify(HOST)}, "127.0.0.1:1"], { stdio: ["ignore", "pipe", "inherit"] });
            host.stdout.once("data", () => console.log(host.pid));
            setInterval(() => undefined, 1000);
        `;
        const parent = spawn(process.execPath, ["-e", parentScript], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        });
        let hostPid: number | undefined;
        try {
            hostPid = await new Promise<number>((resolve, reject) => {
                parent.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
                parent.once("exit", (code) => reject(new Error(`the parent exited ${code} before the host served`)));
            });
            assert.ok(isRunning(hostPid), "the host serves");
            parent.kill("SIGKILL");
            assert.ok(
                await eventually(() => !isRunning(hostPid!), 20_000),
                `language host ${hostPid} still running after its parent was killed`,
            );
        } finally {
            parent.kill("SIGKILL");
            if (hostPid !== undefined && isRunning(hostPid)) {
                process.kill(hostPid, "SIGKILL");
            }
        }
    });
});
