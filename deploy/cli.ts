import * as fs from "fs";
import * as path from "path";
import { CliIo, EXIT, FlagError, numberFlag, parseFlags, reportError, runMain } from "../cli/kit";
import { loadStackConfig, RunningPack } from "../preview";
import { DEFAULT_ENDPOINTS, MONITOR_DEFAULTS, reportJson, thresholdsFrom, VALIDATION_DEFAULTS } from "../validator";
import { offlineGate } from "./gate";
import { DeployTarget, PipelineReport, renderTimeline, runPipeline } from "./pipeline";
import { PulumiStackTarget } from "./targets/automation";
import { LocalStandIn } from "./targets/stand-in";

export const USAGE = `usage: npm run deploy -- --stack NAME [options]

Deploys a stack and proves it: offline preview gate, preview with the policy pack, baseline
validation, snapshot and up, propagation, post-deploy validation, and an automatic rollback
(then validated) when anything after up fails.

  --stack NAME                the stack (Pulumi.NAME.yaml)
  --target pulumi|local       pulumi: the real stack through the Automation API (default; needs
                              the Pulumi CLI and credentials); local: the local stand-in
  --dry-run                   stop after the preview
  --monitor                   after a good deploy, run the validator's monitor mode
  --interval SEC, --duration SEC   monitor settings (default ${MONITOR_DEFAULTS.intervalSec}, ${MONITOR_DEFAULTS.durationSec})
  --propagation-timeout SEC   how long the new config may take to serve (default 300)
  --hold SEC                  validation hold (default ${VALIDATION_DEFAULTS.holdSec})
  --endpoints LIST            validation endpoints (default ${DEFAULT_ENDPOINTS.join(",")})
  --threshold EXPR            validation threshold override (repeatable)
  --policy-pack DIR           the pack (default policies)
  --local-cut-before SEC      local target: the cut before the deploy (default 30)
  --local-cut-after SEC|none  local target: the cut the deploy applies (default none)
  --report FILE               write the JSON report
  --help

exit codes: 0 deployed and valid; 1 rolled back, the stack is on its previous state and valid;
3 rollback failed too (loud, with what to do by hand); 2 could not start (bad arguments, gate failed)`;

function seconds(name: string, value: string | undefined, fallback: number): number {
    return numberFlag(name, value, fallback, { allowZero: true, what: "number of seconds" });
}

/** The command's io (it reads no environment), plus what tests inject. */
export interface DeployIo extends Omit<CliIo, "env"> {
    /** Tests pass a stand-in they control; the CLI builds its own. */
    readonly target?: DeployTarget;
    /** A policy pack already serving, for the gate (tests share one); else the gate starts one. */
    readonly pack?: RunningPack;
}

export async function main(argv: string[], io: DeployIo): Promise<number> {
    let standIn: LocalStandIn | undefined;
    try {
        const values = parseFlags(argv, {
            stack: { type: "string" },
            target: { type: "string" },
            "dry-run": { type: "boolean" },
            monitor: { type: "boolean" },
            interval: { type: "string" },
            duration: { type: "string" },
            "propagation-timeout": { type: "string" },
            hold: { type: "string" },
            endpoints: { type: "string" },
            threshold: { type: "string", multiple: true },
            "policy-pack": { type: "string" },
            "local-cut-before": { type: "string" },
            "local-cut-after": { type: "string" },
            report: { type: "string" },
            help: { type: "boolean" },
        }).values;
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (!values.stack) {
            throw new FlagError("--stack is required");
        }
        const targetKind = values.target ?? "pulumi";
        if (targetKind !== "pulumi" && targetKind !== "local") {
            throw new FlagError(`--target ${JSON.stringify(targetKind)}: allowed: pulumi, local`);
        }
        const projectDir = path.resolve(__dirname, "..");
        const packDir = path.resolve(values["policy-pack"] ?? path.join(projectDir, "policies"));
        // Reads the stack's files now, so a missing stack stops here with its message.
        const stackConfig = loadStackConfig({ projectDir, stack: values.stack });
        const endpoints = (values.endpoints ?? DEFAULT_ENDPOINTS.join(",")).split(",").filter(Boolean);
        const options = {
            stack: values.stack,
            dryRun: values["dry-run"] === true,
            propagationTimeoutSec: seconds("propagation-timeout", values["propagation-timeout"], 300),
            validation: {
                ...VALIDATION_DEFAULTS,
                endpoints,
                thresholds: thresholdsFrom(values.threshold ?? []),
                holdSec: seconds("hold", values.hold, VALIDATION_DEFAULTS.holdSec),
            },
            monitor: values.monitor
                ? {
                      intervalSec: seconds("interval", values.interval, MONITOR_DEFAULTS.intervalSec),
                      durationSec: seconds("duration", values.duration, MONITOR_DEFAULTS.durationSec),
                      signal: io.signal,
                  }
                : undefined,
            log: io.out,
        };
        let target = io.target;
        if (!target && targetKind === "local") {
            const after = values["local-cut-after"] ?? "none";
            standIn = await LocalStandIn.start({
                applied: { cutAfterSec: seconds("local-cut-before", values["local-cut-before"], 30) },
                desired: { cutAfterSec: after === "none" ? null : seconds("local-cut-after", after, 0) },
            });
            target = standIn;
        }
        target ??= new PulumiStackTarget({ projectDir, stack: values.stack, project: stackConfig.project, packDir, log: io.out });

        const report: PipelineReport = await runPipeline(target, offlineGate(projectDir, values.stack, packDir, io.pack), options);
        io.out("");
        io.out(renderTimeline(report));
        if (values.report) {
            fs.writeFileSync(values.report, reportJson(report) + "\n");
        }
        if (report.exitCode === EXIT.rollbackFailed) {
            io.err(`error: deploy of ${values.stack} failed and so did the rollback; see the steps above`);
        }
        return report.exitCode;
    } catch (e) {
        return reportError(io, e, { usage: USAGE });
    } finally {
        await standIn?.stop();
    }
}

// The command: real streams, and Ctrl-C ends a post-deploy monitor with its summary.
if (require.main === module) {
    runMain(main);
}
