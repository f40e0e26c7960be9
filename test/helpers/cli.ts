import { spawn } from "child_process";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface CliResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs one of the project's TypeScript commands in a child process, as `npm run` would. */
export function runTs(script: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, script), ...args], {
            cwd: options.cwd ?? ROOT,
            env: { ...process.env, ...options.env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`${script} ${args.join(" ")} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`));
        }, options.timeoutMs ?? 60_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

/** The offline preview command, as `npm run preview:offline -- ARGS` runs it. */
export function runPreview(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    return runTs("preview/cli.ts", args, { timeoutMs: 120_000, ...options });
}
