import * as path from "path";
import { parseArgs } from "util";
import { Diagnostic, PackError, RunningPack } from "./offline/analyzer";
import { resolvePolicyConfig } from "./offline/policyConfig";
import { ProgramError, RecordedResource, runProgram } from "./offline/program";
import { renderHuman, settingsOf, summarize, summaryLine } from "./offline/render";
import { loadStackConfig, UsageError } from "./offline/stackConfig";

export const USAGE = `usage: npm run preview:offline -- --stack NAME [options]

Runs the stack's program under Pulumi's mock runtime and enforces the policy pack over its
real analyzer protocol: no cloud, no Pulumi CLI.

  --stack NAME                 stack to preview (reads Pulumi.NAME.yaml)
  --config KEY=VALUE           override a config value, like pulumi --config (repeatable)
  --stack-file PATH            read the stack's config from PATH instead
  --policy-pack DIR            policy pack to enforce (default: policies)
  --policy-pack-config FILE    policy config JSON, in the CLI's --policy-pack-config format
  --json                       print one JSON document instead of the human report
  --help                       show this help

exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the program, config or pack failed`;

export interface PreviewResult {
    readonly stack: string;
    readonly notices: string[];
    readonly resources: RecordedResource[];
    readonly diagnostics: Diagnostic[];
    readonly outputs: Record<string, unknown>;
    readonly timings: { programMs: number; packStartMs: number; analysisMs: number; totalMs: number };
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
}

/** The offline preview as a library: the deploy pipeline's gate calls this too. */
export async function previewOffline(options: PreviewOptions): Promise<PreviewResult> {
    const started = Date.now();
    const stack = loadStackConfig({ projectDir: options.projectDir, stack: options.stack, overrides: options.overrides, stackFile: options.stackFile });
    // The pack starts in its own process while the program runs here.
    const starting = options.pack ? { ready: Promise.resolve(options.pack), abort: () => undefined } : RunningPack.start(options.packDir);
    let pack: RunningPack | undefined;
    try {
        const programStarted = Date.now();
        // Ids and computed outputs unknown, as the real `pulumi preview` of a new stack has them.
        const run = await runProgram(stack, { unknownAtPreview: true });
        const programMs = Date.now() - programStarted;
        pack = await starting.ready;
        const analysisStarted = Date.now();
        const info = await pack.info();
        await pack.configure(resolvePolicyConfig(info, options.policyConfigFile), { project: stack.project, stack: stack.stack });
        const diagnostics = await pack.analyze(run.resources);
        const analysisMs = Date.now() - analysisStarted;
        return {
            stack: stack.stack,
            notices: stack.notices,
            resources: run.resources,
            diagnostics,
            outputs: run.outputs,
            timings: { programMs, packStartMs: pack.startMs, analysisMs, totalMs: Date.now() - started },
        };
    } finally {
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

function toJson(result: PreviewResult): string {
    return JSON.stringify(
        {
            stack: result.stack,
            notices: result.notices,
            resources: result.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, settings: settingsOf(r) || null })),
            diagnostics: result.diagnostics.map((d) => ({ policy: d.policy, level: d.level, urn: d.urn, message: d.message })),
            outputs: result.outputs,
            summary: summarize(result.resources, result.diagnostics),
            timings: result.timings,
        },
        null,
        2,
    );
}

export async function main(argv: string[]): Promise<number> {
    let args;
    try {
        args = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                config: { type: "string", multiple: true },
                "stack-file": { type: "string" },
                "policy-pack": { type: "string" },
                "policy-pack-config": { type: "string" },
                json: { type: "boolean" },
                help: { type: "boolean" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (e) {
        console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
        return 2;
    }
    if (args.help) {
        console.log(USAGE);
        return 0;
    }
    if (!args.stack) {
        console.error(`error: --stack is required\n\n${USAGE}`);
        return 2;
    }
    const projectDir = path.resolve(__dirname, "..");
    try {
        const result = await previewOffline({
            projectDir,
            stack: args.stack,
            overrides: args.config,
            stackFile: args["stack-file"],
            packDir: path.resolve(args["policy-pack"] ?? path.join(projectDir, "policies")),
            policyConfigFile: args["policy-pack-config"],
        });
        const summary = summarize(result.resources, result.diagnostics);
        if (args.json) {
            console.log(toJson(result));
        } else {
            for (const notice of result.notices) {
                console.log(`note: ${notice}`);
            }
            console.log(`Previewing stack ${result.stack} offline (mock runtime, policy pack over the analyzer protocol)\n`);
            console.log(renderHuman(result.resources, result.diagnostics));
            console.log(`Summary: ${summaryLine(summary)}`);
        }
        return summary.mandatory > 0 ? 1 : 0;
    } catch (e) {
        if (e instanceof UsageError || e instanceof PackError) {
            console.error(`error: ${e.message}`);
        } else if (e instanceof ProgramError) {
            console.error(`error: the program failed: ${e.message}`);
        } else {
            console.error(`error: offline preview failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
