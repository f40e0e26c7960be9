import { parseArgs, ParseArgsConfig } from "util";

// The kit the project's three commands share (validate, preview:offline, deploy): their io, their
// error for user mistakes, flag parsing and the exit codes they return. It knows nothing of the
// parts that use it.

/**
 * Exit codes, named as k6 names its own. Every command uses the same number for the same kind of
 * outcome; README.md, "Exit codes", has the table of what each means per command.
 */
export const EXIT = {
    /** validate: every threshold met; preview: no mandatory violation; deploy: deployed and valid. */
    ok: 0,
    /** validate: a threshold breached or a check failed; preview: mandatory violations; deploy: rolled back, the previous state valid. */
    failed: 1,
    /** Could not start: bad flags or config, a program or pack that fails, a deploy gate that refused. */
    usage: 2,
    /** deploy: the rollback failed too, and a person must act. */
    rollbackFailed: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in what the user gave us: printed as one message, never with a stack trace. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** A usage mistake in the command line itself (a flag or argument): its message points at --help. */
export class FlagError extends UsageError {}

/** A command's standard streams, environment and interrupt, injected so tests run commands in-process. */
export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly env: NodeJS.ProcessEnv;
    /** Aborted on Ctrl-C. */
    readonly signal?: AbortSignal;
}

/** The real streams; Ctrl-C aborts the signal, so a long run can stop and summarize. */
export function processIo(): CliIo {
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    return {
        out: (text) => process.stdout.write(text + "\n"),
        err: (text) => process.stderr.write(text + "\n"),
        env: process.env,
        signal: controller.signal,
    };
}

/** Runs a command's main with the real process io and exits with its code. */
export function runMain(main: (argv: string[], io: CliIo) => Promise<number>): void {
    // process.exit drops what a pipe has not taken yet (a large --json cut mid-document), so it
    // waits until stdout and stderr have flushed everything written before.
    main(process.argv.slice(2), processIo()).then((code) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code))));
}

/** The message of anything thrown. */
export function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/** util.parseArgs, strict, with its complaints turned into UsageErrors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, allowPositionals = false) {
    try {
        return parseArgs({ args: argv, options, strict: true, allowPositionals });
    } catch (e) {
        throw new FlagError(errorText(e));
    }
}

/** A numeric flag: `fallback` when absent, else a finite number above 0 (or at least 0 with `allowZero`). */
export function numberFlag(
    name: string,
    value: string | undefined,
    fallback: number,
    options: { allowZero?: boolean; what?: string } = {},
): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (!options.allowZero && n === 0)) {
        throw new FlagError(`--${name} ${JSON.stringify(value)}: expected a ${options.allowZero ? "non-negative" : "positive"} ${options.what ?? "number"}`);
    }
    return n;
}

/**
 * How a command reports what stopped it, and exit 2: one line; a flag mistake adds the command's
 * synopsis (its usage up to the first blank line) and points at --help.
 */
export function reportError(io: Pick<CliIo, "err">, e: unknown, options: { usage: string; prefix?: string }): number {
    const hint = e instanceof FlagError ? `\n${options.usage.split("\n\n")[0]}\n(see --help for every option)` : "";
    io.err(`error: ${options.prefix ?? ""}${errorText(e)}${hint}`);
    return EXIT.usage;
}
