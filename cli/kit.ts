import * as fs from "fs";
import * as path from "path";
import { parseArgs, ParseArgsConfig } from "util";
import { didYouMean } from "./suggest";

// The kit the project's three commands share (validate, preview:offline, deploy): their io, their
// error for user mistakes, flag parsing, output files, interrupts, progress, colour and the exit
// codes they return. It knows nothing of the parts that use it.

/**
 * Exit codes, named as k6 names its own. Every command uses the same number for the same kind of
 * outcome; EXIT_MEANING says what each means per command.
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
    /** Stopped by Ctrl-C or SIGTERM, after a summary of what was done (128 + SIGINT, as shells report it). */
    interrupted: 130,
} as const;

/** What each exit code means for each command: the one table the docs print (`npm run docs`). */
export const EXIT_MEANING: Record<keyof typeof EXIT, Record<"validate" | "preview" | "deploy", string>> = {
    ok: {
        validate: "every threshold met, no check failed",
        preview: "no mandatory violation",
        deploy: "deployed and valid",
    },
    failed: {
        validate: "a threshold breached or a check failed",
        preview: "mandatory violations",
        deploy: "rolled back: the stack is on the state that ran before, and valid",
    },
    usage: {
        validate: "bad flags, target or output path",
        preview: "bad flags, unknown stack, invalid config, a pack that will not start",
        deploy: "could not start: bad flags, unknown or locked stack, the gate or the preview failed",
    },
    rollbackFailed: {
        validate: "",
        preview: "",
        deploy: "the rollback failed too: do the printed steps by hand",
    },
    interrupted: {
        validate: "Ctrl-C or SIGTERM: the results so far, then exit",
        preview: "Ctrl-C or SIGTERM: stopped, nothing judged",
        deploy: "Ctrl-C or SIGTERM: stopped at a safe point, with the summary",
    },
};

/** A mistake in what the user gave us: printed as one message, never with a stack trace. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** A usage mistake in the command line itself (a flag or argument): its message points at --help. */
export class FlagError extends UsageError {}

/** The run was stopped by Ctrl-C or SIGTERM before it had anything to summarize. */
export class InterruptedError extends Error {
    constructor(message = "interrupted") {
        super(message);
        this.name = "InterruptedError";
    }
}

/** A command's standard streams, environment and interrupt, injected so tests run commands in-process. */
export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly env: NodeJS.ProcessEnv;
    /** Aborted on the first Ctrl-C or SIGTERM: stop at the next safe point and summarize. */
    readonly signal?: AbortSignal;
    /** Aborted on the second: skip waiting (still close what is open and write whole files). */
    readonly force?: AbortSignal;
    /**
     * Rewrites the live progress line on stderr; `final` leaves it standing and starts a new one.
     * Present only when stderr is a terminal, so pipes and logs never see it.
     */
    readonly status?: (line: string, final?: boolean) => void;
    /** Whether stdout is a terminal that takes colour (NO_COLOR unset); commands add --no-color. */
    readonly color?: boolean;
}

/** First signal aborts `signal`, the second `force`, a third exits at once (children die with us). */
function interrupts(err: (text: string) => void): { signal: AbortSignal; force: AbortSignal } {
    const first = new AbortController();
    const second = new AbortController();
    let count = 0;
    const onSignal = (name: NodeJS.Signals) => {
        count += 1;
        if (count === 1) {
            err(
                `${name === "SIGINT" ? "Ctrl-C" : name}: stopping at the next safe point (press Ctrl-C again to stop waiting)`,
            );
            first.abort(new InterruptedError(`interrupted by ${name}`));
        } else if (count === 2) {
            err(`${name === "SIGINT" ? "Ctrl-C" : name} again: stopping without waiting`);
            second.abort(new InterruptedError(`interrupted by ${name}`));
        } else {
            process.exit(EXIT.interrupted);
        }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    return { signal: first.signal, force: second.signal };
}

/** The real streams; Ctrl-C and SIGTERM abort the signal, so a run can stop and summarize. */
function processIo(): CliIo {
    const tty = process.stderr.isTTY === true;
    let statusShown = false;
    const clearStatus = () => {
        if (statusShown) {
            process.stderr.write("\r\x1b[2K");
            statusShown = false;
        }
    };
    const err = (text: string) => {
        clearStatus();
        process.stderr.write(text + "\n");
    };
    const { signal, force } = interrupts(err);
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
    // A full disk or a closed pipe on stdout: one line on stderr instead of an unhandled 'error'
    // event's stack trace, and the command still ends with its own exit code.
    let stdoutBroken = false;
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (!stdoutBroken) {
            stdoutBroken = true;
            err(
                `error: standard output: could not write to it (${e.code ?? e.message}); what was meant for it is lost, the exit code still gives the result`,
            );
        }
    });
    return {
        out: (text) => {
            clearStatus();
            if (!stdoutBroken) {
                process.stdout.write(text + "\n");
            }
        },
        err,
        env: process.env,
        signal,
        force,
        status: tty
            ? (line, final) => {
                  const width = Math.max(20, (process.stderr.columns || 80) - 1);
                  process.stderr.write(`\r\x1b[2K${line.slice(0, width)}${final ? "\n" : ""}`);
                  statusShown = !final && line !== "";
              }
            : undefined,
        color: process.stdout.isTTY === true && !noColor,
    };
}

/** Runs a command's main with the real process io and exits with its code. */
export function runMain(main: (argv: string[], io: CliIo) => Promise<number>): void {
    const io = processIo();
    // process.exit drops what a pipe has not taken yet (a large --json cut mid-document), so it
    // waits until stdout and stderr have flushed everything written before.
    const exit = (code: number) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
    main(process.argv.slice(2), io).then(exit, (e: unknown) => {
        // A bug of ours, not a user mistake: the one place a stack trace helps.
        io.err(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        exit(EXIT.usage);
    });
}

/** The message of anything thrown. */
export function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/** Resolves when the signal aborts (never, without one); for racing a wait against Ctrl-C. */
export function whenAborted(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
        if (!signal) {
            return;
        }
        if (signal.aborted) {
            resolve();
            return;
        }
        signal.addEventListener("abort", () => resolve(), { once: true });
    });
}

/** Waits `ms`, or less when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted) {
            resolve();
            return;
        }
        const onAbort = () => {
            clearTimeout(timer);
            resolve();
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

/** A flag's spec as the commands declare it: util.parseArgs's, plus the help's place for it. */
type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

function flagName(option: string): string {
    return option.replace(/^-+/, "").split("=")[0];
}

/**
 * util.parseArgs, strict, with its complaints turned into one-line FlagErrors (a misspelled flag
 * names the closest one). `--hold -1` reads as `--hold=-1`, so a negative number is judged by the
 * flag's own check instead of the parser's three-line note about ambiguous arguments.
 */
export function parseFlags<T extends FlagOptions>(argv: string[], options: T, allowPositionals = false) {
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const spec = arg.startsWith("--") && !arg.includes("=") ? options[arg.slice(2)] : undefined;
        if (spec?.type === "string" && i + 1 < argv.length && /^-\.?\d/.test(argv[i + 1])) {
            args.push(`${arg}=${argv[i + 1]}`);
            i += 1;
        } else {
            args.push(arg);
        }
    }
    try {
        return parseArgs({ args, options, strict: true, allowPositionals });
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const message = errorText(e);
        const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
        if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
            const name = flagName(quoted);
            const long = Object.keys(options).map((o) => `--${o}`);
            throw new FlagError(`unknown flag ${quoted}${didYouMean(`--${name}`, long)}`);
        }
        if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
            // Node quotes the flag as "-s, --stack <value>" when it has a short form: the long name is the one to show.
            const name = /--([^\s=]+)/.exec(quoted)?.[1] ?? flagName(quoted.split(" ")[0]);
            const spec = options[name] ?? Object.entries(options).find(([, o]) => o.short === name)?.[1];
            throw new FlagError(spec?.type === "boolean" ? `--${name} takes no value` : `--${name} needs a value`);
        }
        if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
            throw new FlagError(`unexpected argument ${JSON.stringify(quoted)}; this command takes flags only`);
        }
        throw new FlagError(message.split("\n")[0]);
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
        throw new FlagError(
            `--${name} ${JSON.stringify(value)}: expected a ${options.allowZero ? "non-negative" : "positive"} ${options.what ?? "number"}`,
        );
    }
    return n;
}

/** A numeric flag's allowed values: a closed range, whole numbers only for a count, and what it counts. */
export interface Bounds {
    readonly min: number;
    readonly max: number;
    readonly integer?: boolean;
    /** What the number is, in the error: "seconds", "connections". */
    readonly unit: string;
}

/** A numeric flag of a command's FLAGS table: a string to the parser, with its default and bounds beside it. */
export function numericFlag(fallback: number, bounds: Bounds) {
    return { type: "string", fallback, bounds } as const;
}

/** The names of a FLAGS table's numeric flags, those `numericFlag` made. */
export type NumericFlagName<F> = { [K in keyof F]: F[K] extends { bounds: Bounds } ? K : never }[keyof F] & string;

/**
 * Reads a FLAGS table's numeric flags from parsed values: each its default when absent, else
 * within its bounds (`boundedFlag`), so a command cannot read one without its bounds.
 */
export function numericFlagReader<F>(flags: F) {
    return (values: { readonly [K in keyof F]?: unknown }, name: NumericFlagName<F>): number => {
        const { fallback, bounds } = flags[name] as F[typeof name] & { fallback: number; bounds: Bounds };
        return boundedFlag(name, values[name] as string | undefined, fallback, bounds);
    };
}

/**
 * A numeric flag within bounds: `fallback` when absent, else one error line naming the flag, the
 * value and the range. Every number has bounds: an unbounded duration overflows Node's timers
 * (they fire at once past 2^31 - 1 ms) and an unbounded count spins or exhausts memory.
 */
export function boundedFlag(name: string, value: string | undefined, fallback: number, bounds: Bounds): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (
        value.trim() === "" ||
        !Number.isFinite(n) ||
        n < bounds.min ||
        n > bounds.max ||
        (bounds.integer === true && !Number.isInteger(n))
    ) {
        throw new FlagError(
            `--${name} ${JSON.stringify(value)}: expected ${bounds.integer ? "a whole number of " : ""}${bounds.unit} from ${bounds.min} to ${bounds.max}`,
        );
    }
    return n;
}

/** The project's version, for --version: one place, package.json. */
export function version(): string {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
    return pkg.version;
}

/**
 * Checks, before any work, that `file` can be written: its folder exists and is writable, and it
 * is not a folder itself. A run must not end in "cannot write" after all its work.
 */
export function checkOutputPath(flag: string, file: string): void {
    const dir = path.dirname(path.resolve(file));
    const where = `--${flag} ${file}`;
    let dirStat: fs.Stats;
    try {
        dirStat = fs.statSync(dir);
    } catch {
        throw new FlagError(`${where}: folder ${path.dirname(file)} does not exist; create it or pick another path`);
    }
    if (!dirStat.isDirectory()) {
        throw new FlagError(`${where}: ${path.dirname(file)} is not a folder`);
    }
    const existing = fs.statSync(file, { throwIfNoEntry: false });
    if (existing?.isDirectory()) {
        throw new FlagError(`${where}: is a folder; expected a file path such as ${path.join(file, "report.json")}`);
    }
    try {
        fs.accessSync(existing ? file : dir, fs.constants.W_OK);
    } catch (e) {
        throw new FlagError(`${where}: cannot be written (${(e as NodeJS.ErrnoException).code})`);
    }
}

/**
 * Writes `file` whole or not at all (a temporary file beside it, then a rename), so an interrupt
 * or a full disk never leaves half a report. Returns the error text instead of throwing: a write
 * that fails after the work is reported without changing the run's exit code.
 */
export function writeOutputFile(flag: string, file: string, text: string): string | undefined {
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        fs.writeFileSync(temporary, text);
        fs.renameSync(temporary, file);
        return undefined;
    } catch (e) {
        fs.rmSync(temporary, { force: true });
        return `--${flag} ${file}: could not write it (${(e as NodeJS.ErrnoException).code ?? errorText(e)}); the run's result above stands`;
    }
}

/** ANSI colour for a terminal, or plain text; `enabled` is io.color and not --no-color/--json. */
export function painter(enabled: boolean) {
    const wrap = (code: number) => (text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text);
    return { red: wrap(31), green: wrap(32), yellow: wrap(33), bold: wrap(1), dim: wrap(2) };
}
export type Painter = ReturnType<typeof painter>;

/**
 * The live progress line: one phase at a time with its elapsed seconds and what it has done so
 * far, redrawn twice a second on a terminal, left standing with its duration when the next phase
 * starts. Without `io.status` (not a terminal, or --json) it does nothing at all.
 */
export class Progress {
    private current?: { name: string; started: number; detail?: () => string };
    private timer?: NodeJS.Timeout;

    constructor(private readonly status: CliIo["status"] | undefined) {}

    phase(name: string, detail?: () => string): void {
        if (!this.status) {
            return;
        }
        this.finish();
        this.current = { name, started: Date.now(), detail };
        this.draw(false);
        this.timer = setInterval(() => this.draw(false), 500);
        this.timer.unref();
    }

    /** Leaves the current phase's line standing with its duration. */
    finish(): void {
        if (this.timer) {
            clearInterval(this.timer);
            this.timer = undefined;
        }
        if (this.current) {
            this.draw(true);
            this.current = undefined;
        }
    }

    private draw(final: boolean): void {
        const c = this.current;
        if (!c || !this.status) {
            return;
        }
        const detail = c.detail?.();
        this.status(
            `${final ? "done" : "...."} ${c.name}  ${((Date.now() - c.started) / 1000).toFixed(1)} s${detail ? `  ${detail}` : ""}`,
            final,
        );
    }
}

/**
 * How a command reports what stopped it, and exit 2 (130 for an interrupt): one line; a flag
 * mistake adds the command's synopsis (its usage up to the first blank line) and points at --help.
 */
export function reportError(io: Pick<CliIo, "err">, e: unknown, options: { usage: string; prefix?: string }): number {
    if (e instanceof InterruptedError) {
        io.err(`${e.message}: stopped before anything was changed or judged`);
        return EXIT.interrupted;
    }
    const hint = e instanceof FlagError ? `\n${options.usage.split("\n\n")[0]}\n(see --help for every option)` : "";
    io.err(`error: ${options.prefix ?? ""}${errorText(e)}${hint}`);
    return EXIT.usage;
}
