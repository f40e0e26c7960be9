import { spawn } from "child_process";
import * as os from "os";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import * as cmd from "@pulumi/pulumi/automation/cmd";
import * as errors from "@pulumi/pulumi/automation/errors";

// The Pulumi CLI as the Automation API runs it, but in a process group of its own.
//
// A terminal sends Ctrl-C's SIGINT to its whole foreground process group. The Automation API
// starts `pulumi` in ours, so the CLI would get that SIGINT too and cancel a running update:
// the one thing the pipeline promises never happens ("during up the engine is never killed").
// Started detached (a new session, setsid), the CLI gets no signal from the terminal; this
// process, which does, decides what to do at its next safe point.

interface CommandResultLike {
    readonly stdout: string;
    readonly stderr: string;
    readonly code: number;
}

/** The classes the Automation API builds its results and errors from (in its JavaScript, not its types). */
const automation = {
    result: (
        cmd as unknown as {
            CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => CommandResultLike;
        }
    ).CommandResult,
    error: (errors as unknown as { createCommandError: (result: CommandResultLike) => Error }).createCommandError,
};

type Run = (
    args: string[],
    cwd: string,
    additionalEnv: Record<string, string>,
    onOutput?: (data: string) => void,
    onError?: (data: string) => void,
    signal?: AbortSignal,
) => Promise<CommandResultLike>;

/**
 * What the Automation API's own `PulumiCommand.run` does (node_modules/@pulumi/pulumi/automation/
 * cmd.js: --non-interactive, the CLI's folder first on PATH, PULUMI_AUTOMATION_API=true, an error
 * built by createCommandError on a non-zero exit), with the child detached. Its own children (the
 * language host, the program, the policy pack, the providers) share its new process group.
 */
function detachedRun(command: string): Run {
    return (args, cwd, additionalEnv, onOutput, onError, signal) => {
        const argv = args.includes("--non-interactive") ? args : [...args, "--non-interactive"];
        const env: NodeJS.ProcessEnv = { ...process.env, ...additionalEnv, PULUMI_AUTOMATION_API: "true" };
        if (path.isAbsolute(command)) {
            env.PATH = [path.dirname(command), additionalEnv.PATH ?? process.env.PATH ?? ""].join(path.delimiter);
        }
        return new Promise((resolve, reject) => {
            const child = spawn(command, argv, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                onOutput?.(chunk.toString());
            });
            child.stderr.on("data", (chunk: Buffer) => {
                stderr += chunk.toString();
                onError?.(chunk.toString());
            });
            // The Automation API cancels through its signal: SIGINT, as a terminal would have sent.
            signal?.addEventListener("abort", () => child.kill("SIGINT"), { once: true });
            child.once("error", (e) => reject(automation.error(new automation.result("", e.message, -2, e))));
            child.once("close", (code, killedBy) => {
                const result = new automation.result(stdout, stderr, code ?? -1);
                if (code === 0) {
                    resolve(result);
                } else {
                    const why = killedBy ? `${os.EOL}the Pulumi CLI was killed by ${killedBy}` : "";
                    reject(automation.error(new automation.result(stdout, stderr + why, code ?? -1)));
                }
            });
        });
    };
}

/** The CLI found as the Automation API finds it (PATH, version checked), run detached. */
export async function detachedPulumiCommand(): Promise<PulumiCommand> {
    const found = await PulumiCommand.get();
    return Object.assign(found, { run: detachedRun(found.command) });
}
