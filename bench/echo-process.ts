import { spawn } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

/**
 * The validator's echo server in a process of its own, so the client under test has its core to
 * itself; `cpus` (a taskset list such as "1") pins it away from the client's.
 */
export async function startEchoProcess(options: { cpus?: string } = {}): Promise<{ port: number; stop(): void }> {
    const node = [
        process.execPath,
        "-r",
        "./cli/register.js",
        "-e",
        "require('./validator/core/echo-server').startEchoServer().then((s) => console.log(s.port))",
    ];
    const [command, ...args] = options.cpus === undefined ? node : ["taskset", "-c", options.cpus, ...node];
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`the echo server exited (${code}) before it listened`)));
        child.stdout.once("data", (c: Buffer) => resolve(Number(c.toString().trim())));
    });
    return { port, stop: () => child.kill() };
}
