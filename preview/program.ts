import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { fastPathOn } from "./fast-paths";
import { withLeanRuntime } from "./lean-runtime";
import { offlineMocks } from "./mocks";
import { ProgramError } from "./program-error";
import { StackConfig } from "./stack-config";

/** What `pulumi preview` would send to a policy pack for one resource. */
export interface RecordedResource {
    readonly urn: string;
    /** The id the mock provider gave it; empty for components. */
    readonly id: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly parent?: string;
    readonly dependencies: string[];
    readonly propertyDependencies: Record<string, string[]>;
    readonly provider?: string;
    /** Inputs in the engine's wire form (unknowns and secrets as their sentinel objects). */
    readonly inputs: Record<string, unknown>;
}

export interface ProgramRun {
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, unknown>;
}

/** The project's TypeScript loader: a frame of it is never the program's own. */
const LOADER = path.resolve(__dirname, "..", "cli", "typescript-cache.js");

/**
 * Whether an error's stack can say where the program failed. Not a RunError: the SDK's way to say
 * "a user mistake, the stack is noise" (the program's config errors are RunErrors that name the
 * key and the value). Not a SyntaxError: its message names its file and line already
 * (cli/typescript-cache.js).
 */
function locatable(cause: unknown): cause is Error {
    return cause instanceof Error && !(cause instanceof SyntaxError) && !pulumi.RunError.isInstance(cause);
}

/**
 * The first frame of an error's stack in the program's own files (not a dependency's, not this
 * harness's, not the loader's), for the errors `locatable` allows.
 */
function programLocation(cause: unknown, projectDir: string): string | undefined {
    const stack = locatable(cause) ? cause.stack : undefined;
    if (stack === undefined) {
        return undefined;
    }
    const harness = path.dirname(__filename) + path.sep;
    for (const [, file, line, column] of stack.matchAll(/\(?([^\s()]+?):(\d+):(\d+)\)?$/gm)) {
        if (
            file.startsWith(projectDir + path.sep) &&
            !file.includes(`${path.sep}node_modules${path.sep}`) &&
            !file.startsWith(harness) &&
            file !== LOADER
        ) {
            return `${path.relative(projectDir, file).split(path.sep).join("/")}:${line}:${column}`;
        }
    }
    return undefined;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
interface RegisterResponse {
    getUrn(): string;
    getId(): string;
    getObject(): { getFieldsMap(): { get(key: string): { getStringValue(): string } | undefined } } | undefined;
}
type Callback = (err: unknown, response: RegisterResponse | undefined) => void;
interface RecordingMonitor {
    registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
}

// Internal to the SDK but stable across 3.x: drains in-flight registrations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void>; getMonitor(): unknown };

/**
 * The inputs as a provider's Check returns them, which is what the CLI hands a policy pack:
 * the program's inputs plus the auto-generated `name` (taken from the mock provider's state).
 */
function checkedInputs(req: RegisterRequest, response: RegisterResponse): Record<string, unknown> {
    const inputs = req.getObject()?.toJavaScript() ?? {};
    if (req.getCustom() && inputs.name === undefined) {
        // Only the name is read, so the rest of the state is not decoded.
        const name = response.getObject()?.getFieldsMap().get("name")?.getStringValue();
        if (name) {
            return { ...inputs, name };
        }
    }
    return inputs;
}

/** Forgets the program's modules so a second run in this process executes it afresh. */
function forgetProgramModules(projectDir: string): void {
    // Modules are cached under their real path, even when the program is reached through a link.
    const root = path.dirname(fs.realpathSync(path.resolve(projectDir, "index.ts"))) + path.sep;
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(root) && !id.includes(`${path.sep}node_modules${path.sep}`)) {
            delete require.cache[id];
        }
    }
}

/**
 * Runs `body` with no stack traces. The SDK takes one for every resource (Resource.callsites) and
 * never shows it; capturing and formatting them was much of a large stack's program time and
 * garbage. A program that fails is run again with traces on (runProgram), so its error still names
 * its file and line.
 */
async function withoutStackTraces<T>(body: () => Promise<T>): Promise<T> {
    const limit = Error.stackTraceLimit;
    // Read as a value, not a method: it is only put back as it was.
    const prepare: unknown = Reflect.get(Error, "prepareStackTrace");
    Error.stackTraceLimit = 0;
    // Resource.callsites lifts the limit for itself; what it would parse out is never used here.
    Error.prepareStackTrace = (error) => Error.prototype.toString.call(error);
    try {
        return await body();
    } finally {
        Error.stackTraceLimit = limit;
        // Undefined restores V8's own format.
        Object.assign(Error, { prepareStackTrace: prepare });
    }
}

/** What an Output holds, read the way the SDK itself does (these members are not in its typings). */
interface OutputInternals {
    readonly isKnown: Promise<boolean>;
    promise(): Promise<unknown>;
}

/**
 * The program's exports as `pulumi preview` shows them: known values as they are, unknown ones
 * (ids and computed outputs of a new stack) as "[unknown]".
 */
async function shownOutputs(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
    const show = async (value: unknown): Promise<unknown> => {
        if (pulumi.Output.isInstance(value)) {
            const output = value as unknown as OutputInternals;
            return (await output.isKnown) ? show(await output.promise()) : "[unknown]";
        }
        if (Array.isArray(value)) {
            return Promise.all(value.map(show));
        }
        if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
            return Object.fromEntries(
                await Promise.all(
                    Object.entries(value).map(async ([key, inner]): Promise<[string, unknown]> => [
                        key,
                        await show(inner),
                    ]),
                ),
            );
        }
        return value;
    };
    return Object.fromEntries(
        await Promise.all(
            Object.entries(exports).map(async ([name, value]): Promise<[string, unknown]> => [name, await show(value)]),
        ),
    );
}

export interface RunOptions {
    /** Ids and computed outputs unknown, as the real `pulumi preview` of a new stack has them. */
    readonly unknownAtPreview?: boolean;
    /** False runs the program on the SDK's own promise bookkeeping and eager outputs, without preview/lean-runtime.ts (for tests); default true. */
    readonly leanRuntime?: boolean;
}

/**
 * Runs the stack's program under Pulumi's mock runtime with preview semantics and records every
 * resource it registers, with parent, dependencies and property dependencies.
 */
export async function runProgram(stack: StackConfig, options: RunOptions = {}): Promise<ProgramRun> {
    try {
        return await runOnce(stack, options, withoutStackTraces);
    } catch (e) {
        // Traces would add nothing to an error they cannot locate: no second run for it.
        if (!(e instanceof ProgramError) || !locatable(e.cause)) {
            throw e;
        }
        // That run kept no stack traces; this one does, so the error names the program's file and
        // line. Should it pass this time, the program still failed once: the first error stands.
        const traced = await runOnce(stack, options, (body) => body()).then(
            () => e,
            (again: unknown) => again,
        );
        throw traced;
    }
}

async function runOnce(
    stack: StackConfig,
    options: RunOptions,
    traces: <T>(body: () => Promise<T>) => Promise<T>,
): Promise<ProgramRun> {
    pulumi.runtime.setAllConfig(stack.config, stack.secretKeys);
    const gcpProject = stack.config["gcp:project"] ?? "offline-project";
    await pulumi.runtime.setMocks(offlineMocks(gcpProject, options), stack.project, stack.stack, true);

    const resources: RecordedResource[] = [];
    const monitor = settings.getMonitor() as RecordingMonitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) =>
        register(req, (err, response) => {
            if (!err && response) {
                const propertyDependencies: Record<string, string[]> = {};
                req.getPropertydependenciesMap().forEach((value, key) => {
                    propertyDependencies[key] = value.getUrnsList();
                });
                resources.push({
                    urn: response.getUrn(),
                    id: response.getId(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    parent: req.getParent() || undefined,
                    dependencies: req.getDependenciesList(),
                    propertyDependencies,
                    provider: req.getProvider() || undefined,
                    inputs: checkedInputs(req, response),
                });
            }
            callback(err, response);
        });

    forgetProgramModules(stack.projectDir);
    const entry = path.resolve(stack.projectDir, "index.ts");
    // A program error also rejects the stack resource's own promises; the error is reported
    // once, from here, so those echoes are absorbed while the program runs.
    const echoes: unknown[] = [];
    const absorb = (reason: unknown) => echoes.push(reason);
    process.on("unhandledRejection", absorb);
    let outputs: Record<string, unknown>;
    try {
        outputs = await withLeanRuntime(
            () =>
                traces(async () => {
                    let exports: Record<string, unknown> = {};
                    await pulumi.runtime.runInPulumiStack(() => {
                        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program's entry, a path known only at run time, loaded as `pulumi` loads it
                        exports = require(entry) as Record<string, unknown>;
                        return Promise.resolve(exports);
                    });
                    await settings.waitForRPCs();
                    return shownOutputs(exports);
                }),
            options.leanRuntime ?? fastPathOn("lean-runtime"),
        );
    } catch (e) {
        throw new ProgramError(e, resources, programLocation(e, stack.projectDir));
    } finally {
        // Let rejections queued by the last turn surface before the handler goes.
        await new Promise((resolve) => setImmediate(resolve));
        process.off("unhandledRejection", absorb);
    }
    if (echoes.length > 0) {
        throw new ProgramError(echoes[0], resources, programLocation(echoes[0], stack.projectDir));
    }
    return { resources, outputs: { ...outputs } };
}
