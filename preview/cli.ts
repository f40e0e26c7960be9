import * as path from "path";
import {
    CliIo,
    EXIT,
    FlagError,
    InterruptedError,
    painter,
    parseFlags,
    reportError,
    runMain,
    UsageError,
    version,
} from "../cli/kit";
import { PackError } from "./analyzer";
import { checkPolicyPackDir, loadPolicyConfigFile } from "./policy-config";
import { previewOffline, PreviewResult } from "./preview";
import { ProgramError } from "./program-error";
import { renderHuman, renderOutputs, settingsOf, summarize, summaryLine } from "./render";

export const USAGE = `usage: npm run preview:offline -- --stack NAME [options]

Runs the stack's program under Pulumi's mock runtime and enforces the policy pack over its
real analyzer protocol: no cloud, no Pulumi CLI. Prints the resource tree, the policy
diagnostics, the stack's outputs and a summary.

options:
  -s, --stack NAME               stack to preview (reads Pulumi.NAME.yaml)
  -c, --config KEY=VALUE         override a config value, like pulumi --config (repeatable)
      --stack-file PATH          read the stack's config from PATH instead
      --policy-pack DIR          policy pack to enforce (default: policies)
      --policy-pack-config FILE  policy config JSON, in the CLI's --policy-pack-config format
  -j, --json                     print one JSON document instead of the human report
      --no-color                 no colour even on a terminal (NO_COLOR=1 does the same)
  -h, --help                     show this help
      --version                  print the version

examples:
  npm run preview:offline -- -s staging
  npm run preview:offline -- -s staging -c backendTimeoutSec=30
  npm run -s preview:offline -- -s production --json > preview.json

Ctrl-C or SIGTERM stops the preview and its policy pack at once (exit 130); nothing is changed.
exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the program, config or pack
failed, 130 interrupted`;

function toJson(result: PreviewResult): string {
    return JSON.stringify(
        {
            stack: result.stack,
            notices: result.notices,
            resources: result.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent ?? null,
                settings: settingsOf(r) || null,
            })),
            diagnostics: result.diagnostics.map((d) => ({
                policy: d.policy,
                level: d.level,
                urn: d.urn,
                message: d.message,
            })),
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
            stack: { type: "string", short: "s" },
            config: { type: "string", multiple: true, short: "c" },
            "stack-file": { type: "string" },
            "policy-pack": { type: "string" },
            "policy-pack-config": { type: "string" },
            json: { type: "boolean", short: "j" },
            "no-color": { type: "boolean" },
            help: { type: "boolean", short: "h" },
            version: { type: "boolean" },
        }).values;
        if (args.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (args.version) {
            io.out(`preview:offline ${version()}`);
            return EXIT.ok;
        }
        if (!args.stack) {
            throw new FlagError("--stack is required");
        }
        const projectDir = path.resolve(__dirname, "..");
        // Every input is checked before the program or the pack starts.
        const packDir = path.resolve(args["policy-pack"] ?? path.join(projectDir, "policies"));
        checkPolicyPackDir(packDir, args["policy-pack"] ?? "policies");
        if (args["policy-pack-config"] !== undefined) {
            loadPolicyConfigFile(args["policy-pack-config"]);
        }
        const result = await previewOffline({
            projectDir,
            stack: args.stack,
            overrides: args.config,
            stackFile: args["stack-file"],
            packDir,
            policyConfigFile: args["policy-pack-config"],
            signal: io.signal,
        });
        const summary = summarize(result.resources, result.diagnostics);
        if (args.json) {
            io.out(toJson(result));
        } else {
            const paint = painter(io.color === true && !args["no-color"]);
            for (const notice of result.notices) {
                io.out(`note: ${notice}`);
            }
            io.out(`Previewing stack ${result.stack} offline (mock runtime, policy pack over the analyzer protocol)\n`);
            io.out(
                renderHuman(result.resources, result.diagnostics)
                    .replace(/\[mandatory\]/g, paint.red("[mandatory]"))
                    .replace(/\[advisory\]/g, paint.yellow("[advisory]")),
            );
            io.out(renderOutputs(result.outputs));
            io.out("");
            const line = `Summary: ${summaryLine(summary)}`;
            io.out(summary.mandatory > 0 ? paint.red(line) : paint.green(line));
        }
        return summary.mandatory > 0 ? EXIT.failed : EXIT.ok;
    } catch (e) {
        if (e instanceof InterruptedError) {
            io.err(`${e.message}: preview stopped and its policy pack ended; nothing was judged or changed`);
            return EXIT.interrupted;
        }
        if (e instanceof ProgramError) {
            return reportError(io, e, { usage: USAGE, prefix: "the program failed: " });
        }
        return reportError(io, e, {
            usage: USAGE,
            prefix: e instanceof UsageError || e instanceof PackError ? "" : "offline preview failed: ",
        });
    }
}

if (require.main === module) {
    runMain(main);
}
