import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { closeAll } from "../validator/connect";
import { DEFAULT_ENDPOINTS } from "../validator/echoServer";
import { processIo } from "../validator/processIo";
import { reportJson } from "../validator/run";
import { ThresholdError, thresholdsFrom } from "../validator/thresholds";
import { GateResult, PipelineReport, renderTimeline, runPipeline, DeployTarget } from "./pipeline";
import { RunningPack } from "./offline/analyzer";
import { previewOffline } from "./preview-offline";
import { summaryLine, summarize } from "./offline/render";
import { loadStackConfig, UsageError } from "./offline/stackConfig";
import { PulumiStackTarget } from "./targets/automation";
import { LocalStandIn } from "./targets/standIn";

export const USAGE = `usage: npm run deploy -- --stack NAME [options]

Deploys a stack and proves it: offline preview gate, preview with the policy pack, baseline
validation, snapshot and up, propagation, post-deploy validation, and an automatic rollback
(then validated) when anything after up fails.

  --stack NAME                the stack (Pulumi.NAME.yaml)
  --target pulumi|local       pulumi: the real stack through the Automation API (default; needs
                              the Pulumi CLI and credentials); local: the local stand-in
  --dry-run                   stop after the preview
  --monitor                   after a good deploy, run the validator's monitor mode
  --interval SEC, --duration SEC   monitor settings (default 10, 600)
  --propagation-timeout SEC   how long the new config may take to serve (default 300)
  --hold SEC                  validation hold (default 40)
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
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
        throw new UsageError(`--${name} ${JSON.stringify(value)}: expected a number of seconds`);
    }
    return n;
}

/** Step 1: the offline preview; any mandatory violation or failure stops the deploy. */
export function offlineGate(projectDir: string, stack: string, packDir: string, pack?: RunningPack): () => Promise<GateResult> {
    return async () => {
        try {
            const result = await previewOffline({ projectDir, stack, packDir, pack });
            const summary = summarize(result.resources, result.diagnostics);
            const mandatory = result.diagnostics.filter((d) => d.level === "mandatory").map((d) => `${d.policy}: ${d.message.split("\n").pop()}`);
            return { ok: summary.mandatory === 0, summary: [summaryLine(summary), ...mandatory].join("; ") };
        } catch (e) {
            return { ok: false, summary: e instanceof Error ? e.message : String(e) };
        }
    };
}

export interface DeployIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly signal?: AbortSignal;
    /** Tests pass a stand-in they control; the CLI builds its own. */
    readonly target?: DeployTarget;
    /** A policy pack already serving, for the gate (tests share one); else the gate starts one. */
    readonly pack?: RunningPack;
}

export async function main(argv: string[], io: DeployIo): Promise<number> {
    let standIn: LocalStandIn | undefined;
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                strict: true,
                options: {
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
                },
            }).values;
        } catch (e) {
            throw new UsageError((e as Error).message);
        }
        if (values.help) {
            io.out(USAGE);
            return 0;
        }
        if (!values.stack) {
            throw new UsageError("--stack is required");
        }
        const targetKind = values.target ?? "pulumi";
        if (targetKind !== "pulumi" && targetKind !== "local") {
            throw new UsageError(`--target ${JSON.stringify(targetKind)}: allowed: pulumi, local`);
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
                endpoints,
                thresholds: thresholdsFrom(values.threshold ?? []),
                handshakeTimeoutMs: 10_000,
                messages: 10,
                echo: true,
                messageTimeoutMs: 5_000,
                holdSec: seconds("hold", values.hold, 40),
                holdMode: "both" as const,
                pingIntervalSec: 5,
            },
            monitor: values.monitor
                ? { intervalSec: seconds("interval", values.interval, 10), durationSec: seconds("duration", values.duration, 600), signal: io.signal }
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
        if (report.exitCode === 3) {
            io.err(`error: deploy of ${values.stack} failed and so did the rollback; see the steps above`);
        }
        return report.exitCode;
    } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        io.err(`error: ${text}${e instanceof UsageError || e instanceof ThresholdError ? "\n(see --help)" : ""}`);
        return 2;
    } finally {
        closeAll();
        await standIn?.stop();
    }
}

/** The command: real streams, and Ctrl-C ends a post-deploy monitor with its summary. */
export function runCli(): void {
    main(process.argv.slice(2), processIo()).then((code) => process.exit(code));
}

if (require.main === module) {
    runCli();
}
