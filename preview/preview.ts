import { InterruptedError, whenAborted } from "../cli/kit";
import { Diagnostic, PolicyConfigEntry, RunningPack } from "./analyzer";
import { fastPathNotices } from "./fast-paths";
import { resolvePolicyConfig, stackPolicySettings } from "./policy-config";
import type * as programModule from "./program";
import type { RecordedResource } from "./program";
import { loadStackConfig } from "./stack-config";

export interface PreviewResult {
    readonly stack: string;
    readonly notices: string[];
    readonly resources: RecordedResource[];
    readonly diagnostics: Diagnostic[];
    readonly outputs: Record<string, unknown>;
    readonly timings: PreviewTimings;
}

interface PreviewTimings {
    /** Loading the SDK, then the program under the mock runtime to its last registration. */
    readonly programMs: number;
    /** The pack's process, from its start to serving (by the pack's own clock). */
    readonly packStartMs: number;
    /** Configure, Analyze for every resource, AnalyzeStack: from when both the program and the pack are done to the last answer. */
    readonly analysisMs: number;
    readonly totalMs: number;
}

export interface PreviewOptions {
    readonly projectDir: string;
    readonly stack: string;
    readonly overrides?: string[];
    readonly stackFile?: string;
    readonly packDir: string;
    readonly policyConfigFile?: string;
    /** A pack already serving, reused across previews (the caller stops it); else one is started. */
    readonly pack?: RunningPack;
    /** Ctrl-C or SIGTERM: stop where it is (nothing is changed offline) and stop the pack. */
    readonly signal?: AbortSignal;
}

/** `work`, or an InterruptedError as soon as the signal aborts, whichever comes first. */
function unlessInterrupted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) {
        return work;
    }
    return Promise.race([
        work,
        whenAborted(signal).then((): never => {
            throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
        }),
    ]);
}

/**
 * From how many resources a second pack process takes AnalyzeStack. Its start (about 0.6 CPU-s)
 * pays off once the stack request costs more than that: about 1 ms of the pack's time a resource,
 * read off the pack's CPU profile at 1,000 backends (2,030 resources). Reasoned, not tuned.
 */
const SECOND_PACK_FROM = 500;

/** The offline preview as a library: its command and the deploy pipeline's gate call this. */
export async function previewOffline(options: PreviewOptions): Promise<PreviewResult> {
    const started = Date.now();
    const stack = loadStackConfig({
        projectDir: options.projectDir,
        stack: options.stack,
        overrides: options.overrides,
        stackFile: options.stackFile,
    });
    // The pack starts in its own process while this one loads the SDK and runs the program.
    const starting = options.pack
        ? { ready: Promise.resolve(options.pack), abort: () => undefined }
        : RunningPack.start(options.packDir);
    let pack: RunningPack | undefined;
    let second: ReturnType<typeof RunningPack.start> | undefined;
    try {
        let config: Record<string, PolicyConfigEntry> | undefined;
        if (options.policyConfigFile !== undefined) {
            // Judged against the pack's own policies before the program runs: a misspelled policy
            // or setting is one line at once, not after the program (or instead of its error).
            pack = await unlessInterrupted(starting.ready, options.signal);
            config = resolvePolicyConfig(await pack.info(), options.policyConfigFile, stackPolicySettings(stack));
        }
        const programStarted = Date.now();
        // Loaded only now: the SDK takes a while to load, and the pack's start need not wait for it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, at this point and no sooner
        const { runProgram } = require("./program") as typeof programModule;
        // Ids and computed outputs unknown, as the real `pulumi preview` of a new stack has them.
        // (Analyzing each resource as it registers, as the engine does, was tried: the SDK's
        // promises keep this process from its event loop until the program ends, so nothing
        // reached the pack any sooner.)
        const run = await unlessInterrupted(runProgram(stack, { unknownAtPreview: true }), options.signal);
        const programEnded = Date.now();
        pack ??= await unlessInterrupted(starting.ready, options.signal);
        const analysisStarted = Date.now();
        // The stack's own settings (its websocketPaths) reach the pack; a --policy-pack-config file wins.
        config ??= resolvePolicyConfig(await pack.info(), undefined, stackPolicySettings(stack));
        const configure = (p: RunningPack) =>
            p.configure(config, { project: stack.project, stack: stack.stack }).then(() => p);
        // A large stack's AnalyzeStack goes to a second process of the pack, started now: it judges
        // the whole stack on the other core while the first answers every resource's Analyze.
        if (!options.pack && run.resources.length >= SECOND_PACK_FROM) {
            second = RunningPack.start(options.packDir);
        }
        const stackPack = second?.ready.then(configure);
        stackPack?.catch(() => undefined);
        await configure(pack);
        const diagnostics = await unlessInterrupted(pack.analyze(run.resources, { stackPack }), options.signal);
        return {
            stack: stack.stack,
            notices: [...stack.notices, ...fastPathNotices()],
            resources: run.resources,
            diagnostics,
            outputs: run.outputs,
            timings: {
                programMs: programEnded - programStarted,
                packStartMs: pack.startMs,
                analysisMs: Date.now() - analysisStarted,
                totalMs: Date.now() - started,
            },
        };
    } finally {
        second?.abort();
        second?.ready.then(
            (p) => p.stop(),
            () => undefined,
        );
        // A caller's pack outlives this preview; one started here does not.
        if (!options.pack) {
            if (pack) {
                pack.stop();
            } else {
                starting.abort();
            }
        }
    }
}
