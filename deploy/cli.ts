import * as path from "path";
import { checkOutputPath, CliIo, EXIT, FlagError, numberFlag, parseFlags, Progress, reportError, runMain, version, writeOutputFile } from "../cli/kit";
import { checkPolicyPackDir, loadStackConfig, RunningPack } from "../preview";
import { DEFAULT_ENDPOINTS, MONITOR_DEFAULTS, renderReportHtml, reportJson, thresholdsFrom, VALIDATION_DEFAULTS } from "../validator";
import { offlineGate } from "./gate";
import { DeployTarget, PipelineReport, renderTimeline, runPipeline } from "./pipeline";
import { PulumiStackTarget } from "./targets/automation";
import { LocalStandIn } from "./targets/stand-in";

export const USAGE = `usage: npm run deploy -- --stack NAME [options]

Deploys a stack and proves it: offline preview gate, preview with the policy pack, baseline
validation, snapshot and up, propagation, post-deploy validation, and an automatic rollback
(then validated) when anything after up fails.

options:
  -s, --stack NAME                 the stack (Pulumi.NAME.yaml)
      --target pulumi|local        pulumi: the real stack through the Automation API (default;
                                   needs the Pulumi CLI and credentials); local: the local stand-in
      --dry-run                    stop after the preview
      --monitor                    after a good deploy, run the validator's monitor mode
      --interval SEC               monitor interval (default ${MONITOR_DEFAULTS.intervalSec})
      --duration SEC               monitor duration (default ${MONITOR_DEFAULTS.durationSec})
      --propagation-timeout SEC    how long the new config may take to serve (default 300)
      --hold SEC                   validation hold (default ${VALIDATION_DEFAULTS.holdSec})
      --endpoints LIST             validation endpoints (default ${DEFAULT_ENDPOINTS.join(",")})
      --threshold EXPR             validation threshold override (repeatable)
      --policy-pack DIR            the pack (default policies)
      --local-cut-before SEC       local target: the cut before the deploy (default 30)
      --local-cut-after SEC|none   local target: the cut the deploy applies (default none)
      --report FILE                write the JSON report to FILE
      --report-html FILE           write a self-contained HTML report with charts to FILE
      --no-color                   no colour even on a terminal (NO_COLOR=1 does the same)
  -h, --help                       show this help
      --version                    print the version

examples:
  npm run deploy -- -s staging --target local --hold 35
  npm run deploy -- -s staging --dry-run
  npm run deploy -- -s production --report deploy.json --report-html deploy.html

Ctrl-C or SIGTERM stops at the next safe point and prints the summary (exit 130); see README,
"Interrupts, progress and colour".
exit codes: 0 deployed and valid; 1 rolled back, the stack is on its previous state and valid;
2 could not start (bad arguments, gate failed); 3 rollback failed too (loud, with what to do by
hand); 130 interrupted`;

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
            stack: { type: "string", short: "s" },
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
            "report-html": { type: "string" },
            "no-color": { type: "boolean" },
            help: { type: "boolean", short: "h" },
            version: { type: "boolean" },
        }).values;
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (values.version) {
            io.out(`deploy ${version()}`);
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
        checkPolicyPackDir(packDir, values["policy-pack"] ?? "policies");
        // Output paths are checked before any work: a finished deploy must not end in "cannot write".
        if (values.report !== undefined) {
            checkOutputPath("report", values.report);
        }
        if (values["report-html"] !== undefined) {
            checkOutputPath("report-html", values["report-html"]);
        }
        // Reads the stack's files now, so a missing stack stops here with its message.
        const stackConfig = loadStackConfig({ projectDir, stack: values.stack });
        // On a terminal, a live line with the running phase's elapsed time (stderr; none in pipes).
        const progress = new Progress(io.status);
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
            log: (line: string) => {
                io.out(line);
                // The pipeline logs "▶ phase" as each phase starts: the live line follows it.
                const started = /^▶ (.+)$/.exec(line);
                if (started) {
                    progress.phase(started[1]);
                } else if (/^ {2}[A-Z]+ in [\d.]+ s/.test(line)) {
                    progress.finish();
                }
            },
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

        const report: PipelineReport = await runPipeline(target, offlineGate(projectDir, values.stack, packDir, io.pack), options).finally(() => progress.finish());
        io.out("");
        io.out(renderTimeline(report));
        // A write that fails now is reported; the deploy's exit code stands.
        const writeFailures = [
            values.report === undefined ? undefined : writeOutputFile("report", values.report, reportJson(report) + "\n"),
            values["report-html"] === undefined ? undefined : writeDeployHtml(values["report-html"], report),
        ].filter((f): f is string => f !== undefined);
        for (const failure of writeFailures) {
            io.err(`error: ${failure}`);
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

/**
 * A first HTML report for the deploy: the last validation's charts, each phase as a band laid end
 * to end from the phases' durations. The pipeline's owner refines this (phase start times, the
 * rollback trigger) through renderReportHtml's extras.
 */
function writeDeployHtml(file: string, report: PipelineReport): string | undefined {
    const validations = Object.values(report.validations);
    const last = validations[validations.length - 1];
    if (!last) {
        return writeOutputFile("report-html", file, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>deploy ${report.stack}</title></head><body><h1>deploy ${report.stack}: ${report.outcome}</h1><p>No validation ran, so there is nothing to chart.</p></body></html>\n`);
    }
    // Phases carry durations only: lay them end to end, ending now.
    let at = Date.now() - report.phases.reduce((sum, p) => sum + p.seconds * 1000, 0);
    const phases = report.phases.map((p) => {
        const start = at;
        at += p.seconds * 1000;
        return { name: p.name, status: p.status, start, end: at, detail: p.detail };
    });
    return writeOutputFile(
        "report-html",
        file,
        renderReportHtml(last, { title: `deploy ${report.stack} to ${report.target}: ${report.outcome}`, phases, notes: [`exit ${report.exitCode}`] }),
    );
}

/** The command: real streams, and Ctrl-C ends a post-deploy monitor with its summary. */
export function runCli(): void {
    runMain(main);
}

if (require.main === module) {
    runCli();
}
