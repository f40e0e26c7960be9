import * as pulumi from "@pulumi/pulumi";
import { fastPathUnavailable } from "./fast-paths";

/**
 * The offline preview's two savings inside the Pulumi SDK, switched on only while it runs a
 * program (runProgram) and switched off again after. Both replace an export of an SDK module the
 * rest of the SDK calls through the module object (`debuggable_1.debuggablePromise(...)`,
 * `rpc_1.transferProperties(...)` in its compiled JavaScript), so the replacement reaches every
 * caller. The SDK version is pinned (package.json), and the shape they rely on is checked at start-up
 * (a notice, and the SDK's own functions, when it differs); test/preview/lean-runtime.test.ts runs the same
 * stack with and without them and holds the two previews equal.
 *
 * What they are worth at 1,000 backends (2,030 resources): docs/benchmarks.md.
 */

type Resolver = (value: unknown, isKnown: boolean, isSecret: boolean, deps?: unknown[], err?: Error) => void;

interface Debuggable {
    debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
}
interface Rpc {
    transferProperties: (
        onto: pulumi.Resource,
        label: string,
        props: Record<string, unknown>,
    ) => Record<string, Resolver>;
}
interface Errors {
    isGrpcError: (err: Error) => boolean;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as Debuggable;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as Rpc;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errors = require("@pulumi/pulumi/errors") as Errors;

/**
 * What the two replacements rely on, checked once at start-up: the three SDK functions they
 * replace or call, and OutputImpl's five-argument constructor. Undefined when all is as the pinned
 * SDK has it; otherwise what differs, and the program runs on the SDK's own functions.
 */
const shapeProblem = ((): string | undefined => {
    for (const [module, name, value] of [
        ["runtime/debuggable", "debuggablePromise", debuggable.debuggablePromise],
        ["runtime/rpc", "transferProperties", rpc.transferProperties],
        ["errors", "isGrpcError", errors.isGrpcError],
    ] as const) {
        if (typeof value !== "function") {
            return `@pulumi/pulumi/${module} no longer exports ${name}`;
        }
    }
    const OutputClass = pulumi.Output as unknown as { length: number; name: string };
    if (OutputClass.name !== "OutputImpl" || OutputClass.length !== 5) {
        return "@pulumi/pulumi's Output is no longer the five-argument OutputImpl";
    }
    return undefined;
})();

/**
 * `debuggablePromise` labels each of the SDK's promises, takes a stack trace for it and chains two
 * more promises that take it off a leak list when it settles, all for the promise-leak report a
 * deployment prints at exit. The offline preview never prints that report: it waits for every
 * registration itself (settings.waitForRPCs). So here a promise is just itself.
 */
function plainPromise<T>(p: Promise<T>): Promise<T> {
    return p;
}

/** How an output property settled, kept until (unless) the program reads the property. */
interface Settled {
    readonly value: unknown;
    readonly isKnown: boolean;
    readonly isSecret: boolean;
    readonly deps: unknown[];
    readonly err?: Error;
}

/** A promise with its resolve and reject in hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
    let resolve!: (v: T) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
    });
    return { promise, resolve, reject };
}

// The constructor the SDK itself calls (output.js: exports.Output = OutputImpl); its public typing
// hides the five-argument form.
const OutputImpl = pulumi.Output as unknown as new (...args: unknown[]) => pulumi.Output<unknown>;

/** An Output of `onto` and the function that settles it, as the SDK's transferProperties makes one. */
function outputOf(onto: pulumi.Resource): { output: pulumi.Output<unknown>; settle: (s: Settled) => void } {
    const value = deferred<unknown>();
    const isKnown = deferred<boolean>();
    const isSecret = deferred<boolean>();
    const deps = deferred<pulumi.Resource[]>();
    const output = new OutputImpl(onto, value.promise, isKnown.promise, isSecret.promise, deps.promise);
    const settle = (s: Settled) => {
        if (s.err) {
            for (const d of [value, isKnown, isSecret, deps]) {
                d.reject(s.err);
            }
        } else {
            value.resolve(s.value);
            isKnown.resolve(s.isKnown);
            isSecret.resolve(s.isSecret);
            deps.resolve(s.deps as pulumi.Resource[]);
        }
    };
    return { output, settle };
}

/** Makes `onto[k]` the plain property the SDK would have set. */
function hold(onto: pulumi.Resource, k: string, value: unknown): void {
    Object.defineProperty(onto, k, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The SDK's transferProperties gives a new resource one Output per property (inputs and outputs
 * alike: 33 per resource on average in this program) the moment it is constructed, each of them
 * 4 promises it settles when the registration returns and some 30 closures and promises of the
 * Output's own. A program reads a few of them. This one defines each property as a getter that
 * makes the same Output on first read (and then stays a plain property holding it), settled at
 * once if the registration has already returned; a property never read is never made. What the
 * program reads, and when each value is known, is the SDK's own.
 */
function lazyTransferProperties(
    onto: pulumi.Resource,
    label: string,
    props: Record<string, unknown>,
): Record<string, Resolver> {
    const resolvers: Record<string, Resolver> = {};
    for (const k of Object.keys(props)) {
        // As the SDK: "id" and "urn" are the resource's own, set by the registration.
        if (k === "id" || k === "urn") {
            continue;
        }
        if (Object.prototype.hasOwnProperty.call(onto, k)) {
            throw new Error(`Property '${k}' is already initialized on target '${label}`);
        }
        let settled: Settled | undefined;
        let settle: ((s: Settled) => void) | undefined;
        Object.defineProperty(onto, k, {
            enumerable: true,
            configurable: true,
            get() {
                const made = outputOf(onto);
                settle = made.settle;
                hold(onto, k, made.output);
                if (settled !== undefined) {
                    made.settle(settled);
                }
                return made.output;
            },
            set(value: unknown) {
                hold(onto, k, value);
            },
        });
        resolvers[k] = (value, isKnown, isSecret, deps = [], err) => {
            // As the SDK: a gRPC error means the engine is going away; the output never settles.
            if (err && errors.isGrpcError(err)) {
                return;
            }
            const s: Settled = { value, isKnown, isSecret, deps, err };
            if (settle !== undefined) {
                settle(s);
            } else {
                settled = s;
            }
        };
    }
    return resolvers;
}

let active = 0;
let originals:
    { debuggablePromise: Debuggable["debuggablePromise"]; transferProperties: Rpc["transferProperties"] } | undefined;

/**
 * Runs `body` with both savings on; `enabled: false` runs it as the SDK alone would. Nested or
 * overlapping calls share one switch: the SDK's own functions come back when the last one ends.
 */
export async function withLeanRuntime<T>(body: () => Promise<T>, enabled = true): Promise<T> {
    if (!enabled) {
        return body();
    }
    if (shapeProblem !== undefined) {
        fastPathUnavailable("lean-runtime", `${shapeProblem}; the program runs on the SDK's own functions`);
        return body();
    }
    if (active++ === 0) {
        originals = { debuggablePromise: debuggable.debuggablePromise, transferProperties: rpc.transferProperties };
        debuggable.debuggablePromise = plainPromise;
        rpc.transferProperties = lazyTransferProperties;
    }
    try {
        return await body();
    } finally {
        if (--active === 0 && originals !== undefined) {
            debuggable.debuggablePromise = originals.debuggablePromise;
            rpc.transferProperties = originals.transferProperties;
            originals = undefined;
        }
    }
}
