import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
/** The preload that runs the project's TypeScript (cli/typescript-cache.js), as the npm scripts use it. */
export const REGISTER = path.join(ROOT, "cli", "register.js");

export interface CliResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs a program to its end with stdout and stderr captured, killing it at the deadline: what
 * every test that drives a real command (ours or the Pulumi CLI) needs.
 */
export function runProcess(
    file: string,
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; label: string },
): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`${options.label} did not finish within ${options.timeoutMs} ms\n${stdout}\n${stderr}`));
        }, options.timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

/** Runs one of the project's TypeScript commands in a child process, as `npm run` would. */
export function runTs(
    script: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
    return runProcess(process.execPath, ["-r", REGISTER, path.join(ROOT, script), ...args], {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...options.env },
        timeoutMs: options.timeoutMs ?? 60_000,
        label: `${script} ${args.join(" ")}`,
    });
}

/** The offline preview command, as `npm run preview:offline -- ARGS` runs it. */
export function runPreview(
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
    return runTs("preview/cli.ts", args, { timeoutMs: 120_000, ...options });
}

/** A command started in its own process and left running, for tests that signal it. */
export interface Running {
    readonly child: ChildProcess;
    readonly output: () => { stdout: string; stderr: string };
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts one of the project's TypeScript commands, as runTs does, without waiting for it. */
export function startTs(script: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Running {
    const child = spawn(process.execPath, ["-r", REGISTER, path.join(ROOT, script), ...args], {
        cwd: ROOT,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal })),
    );
    return { child, output: () => ({ stdout, stderr }), exited };
}

/** Processes whose parent is `pid`, with their command lines, read from /proc. */
export function childrenOf(pid: number): Array<{ pid: number; cmdline: string }> {
    const found: Array<{ pid: number; cmdline: string }> = [];
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command name may hold spaces and parentheses: fields start after the last ")".
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === pid) {
                found.push({
                    pid: Number(entry),
                    cmdline: fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" "),
                });
            }
        } catch {
            // The process ended while we looked.
        }
    }
    return found;
}

/** Whether a process is still running (a zombie counts as gone: it has stopped). */
export function isRunning(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
        return false;
    }
}

/** Polls `check` every 100 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (check()) {
            return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return check();
}
