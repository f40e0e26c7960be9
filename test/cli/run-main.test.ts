import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { REGISTER, ROOT } from "../helpers/cli";

describe("cli: runMain exits only after its output reached a pipe", () => {
    it("delivers a 4 MB document whole, then exits with main's code", async function () {
        this.timeout(60_000);
        const kit = path.join(ROOT, "cli", "kit.ts");
        const script = `require(${JSON.stringify(kit)}).runMain(async (argv, io) => { io.out("x".repeat(4 * 1024 * 1024)); return 3; });`;
        const child = spawn(process.execPath, ["-r", REGISTER, "-e", script], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        });
        let received = 0;
        // Read slowly, so the pipe fills before the process would exit.
        child.stdout.on("data", (chunk: Buffer) => {
            received += chunk.length;
            child.stdout.pause();
            setTimeout(() => child.stdout.resume(), 1);
        });
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 3);
        assert.equal(received, 4 * 1024 * 1024 + 1);
    });
});
