import * as path from "path";
import { CliIo, EXIT, FlagError, parseFlags, reportError, runMain, UsageError } from "../cli/kit";
import { PackError } from "./analyzer";
import { previewOffline, PreviewResult } from "./preview";
import { ProgramError } from "./program";
import { renderHuman, settingsOf, summarize, summaryLine } from "./render";

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

export async function main(argv: string[], io: CliIo): Promise<number> {
    try {
        const args = parseFlags(argv, {
            stack: { type: "string" },
            config: { type: "string", multiple: true },
            "stack-file": { type: "string" },
            "policy-pack": { type: "string" },
            "policy-pack-config": { type: "string" },
            json: { type: "boolean" },
            help: { type: "boolean" },
        }).values;
        if (args.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (!args.stack) {
            throw new FlagError("--stack is required");
        }
        const projectDir = path.resolve(__dirname, "..");
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
            io.out(toJson(result));
        } else {
            for (const notice of result.notices) {
                io.out(`note: ${notice}`);
            }
            io.out(`Previewing stack ${result.stack} offline (mock runtime, policy pack over the analyzer protocol)\n`);
            io.out(renderHuman(result.resources, result.diagnostics));
            io.out(`Summary: ${summaryLine(summary)}`);
        }
        return summary.mandatory > 0 ? EXIT.failed : EXIT.ok;
    } catch (e) {
        if (e instanceof ProgramError) {
            return reportError(io, e, { usage: USAGE, prefix: "the program failed: " });
        }
        return reportError(io, e, { usage: USAGE, prefix: e instanceof UsageError || e instanceof PackError ? "" : "offline preview failed: " });
    }
}

if (require.main === module) {
    runMain(main);
}
