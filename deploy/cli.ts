import * as fs from "fs";
import * as path from "path";
import {
    checkOutputPath,
    CliIo,
    EXIT,
    FlagError,
    numberFlag,
    parseFlags,
    Progress,
    reportError,
    runMain,
    UsageError,
    version,
    writeOutputFile,
} from "../cli/kit";
import { checkPolicyPackDir, loadStackConfig, RunningPack } from "../preview";
import { DEFAULT_ENDPOINTS, renderReportHtml, reportJson, thresholdsFrom, VALIDATION_DEFAULTS } from "../validator";
import { offlineGate } from "./gate";
import { DeployTarget, PipelineOptions, PipelineReport, renderTimeline, runPipeline } from "./pipeline";
import { SourceRevision, sourceRevision } from "./revisions";
import { PulumiStackTarget } from "./targets/automation";
import { LocalStandIn } from "./targets/stand-in";
import { describeTrigger, WATCH_DEFAULTS } from "./watch";

export const USAGE = `usage: npm run deploy -- --stack NAME [options]

Deploys a stack and proves it: offline preview gate, preview with the policy pack, baseline
validation, snapshot and up, propagation, post-deploy validation, a watch window, and an
automatic rollback to the last good commit (then validated) when a trigger fires: validation
fails, the service deploy fails, handshake failures or the 5xx rate rise above their thresholds.

options:
  -s, --stack NAME                 the stack (Pulumi.NAME.yaml)
      --target pulumi|local        pulumi: the real stack through the Automation API (default;
                                   needs the Pulumi CLI and credentials); local: the local stand-in
      --dry-run                    stop after the preview
      --image NAME=REF             deploy this image to backend NAME (repeatable)
      --allow-dirty                deploy a checkout with uncommitted changes (no commit is recorded)
      --watch SEC                  watch window after validation (default ${WATCH_DEFAULTS.durationSec}; 0: none)
      --interval SEC               watch probe interval (default ${WATCH_DEFAULTS.intervalSec})
      --max-handshake-failure PCT  roll back above this handshake failure rate (default ${WATCH_DEFAULTS.maxHandshakeFailureRate * 100})
      --max-5xx-increase PCT       roll back above this 5xx rate rise over the baseline (default ${WATCH_DEFAULTS.max5xxIncrease * 100})
      --no-5xx-trigger             deploy without the 5xx trigger (no Google credentials to read it);
                                   without this flag, unreadable metrics stop the deploy before up
      --keep N                     connections held open through the deploy (default 20; 0: none)
      --propagation-timeout SEC    how long the new config may take to serve (default 300)
      --hold SEC                   validation hold (default ${VALIDATION_DEFAULTS.holdSec})
      --endpoints LIST             validation endpoints (default ${DEFAULT_ENDPOINTS.join(",")})
      --threshold EXPR             validation threshold override (repeatable)
      --project DIR                the Pulumi project to deploy (default: this checkout)
      --policy-pack DIR            the pack (default: the project's policies)
      --local-cut-before SEC       local target: the cut before the deploy (default 30)
      --local-cut-after SEC|none   local target: the cut the deploy applies (default none)
      --local-program DIR          local target: a git checkout whose stand-in.json is the program
      --report FILE                write the JSON report to FILE (and, for a Pulumi stack, the state
                                   before up to FILE.state-before-up.json, 0600)
      --report-html FILE           write a self-contained HTML report with charts to FILE
      --no-color                   no colour even on a terminal (NO_COLOR=1 does the same)
  -h, --help                       show this help
      --version                    print the version

examples:
  npm run deploy -- -s staging --target local --hold 35 --watch 30
  npm run deploy -- -s staging --dry-run
  npm run deploy -- -s production --image api=us-docker.pkg.dev/p/chat/api:1.5.0 --report deploy.json --report-html deploy.html

Ctrl-C or SIGTERM stops at the next safe point and prints the summary (exit 130); see README,
"Interrupts, progress and colour".
exit codes: 0 deployed and valid; 1 rolled back, the stack is on its previous state and valid
(or no worse than its already failing baseline); 2 could not start (bad arguments, dirty
checkout, gate failed); 3 rollback failed too (loud, with what to do by hand); 130 interrupted`;

function seconds(name: string, value: string | undefined, fallback: number): number {
    return numberFlag(name, value, fallback, { allowZero: true, what: "number of seconds" });
}

/** A percentage flag (`10` or `10%`), from 0 to 100, as a fraction. */
function percent(name: string, value: string | undefined, fallback: number): number {
    const pct = numberFlag(name, value?.replace(/%$/, ""), fallback * 100, { allowZero: true, what: "percentage" });
    if (pct > 100) {
        throw new FlagError(`--${name} ${JSON.stringify(value)}: expected a percentage from 0 to 100`);
    }
    return pct / 100;
}

/** `--endpoints`: comma-separated paths, as validate takes them; none at all would validate nothing. */
function endpointsFlag(value: string | undefined): string[] {
    const endpoints = (value ?? DEFAULT_ENDPOINTS.join(",")).split(",").filter(Boolean);
    if (endpoints.length === 0 || endpoints.some((e) => !e.startsWith("/"))) {
        throw new FlagError(`--endpoints ${JSON.stringify(value)}: expected paths starting with /, comma-separated`);
    }
    return endpoints;
}

/** `--project DIR`: a folder with a Pulumi.yaml; by default this checkout. */
function projectFlag(value: string | undefined): string {
    if (value === undefined) {
        return path.resolve(__dirname, "..");
    }
    const dir = path.resolve(value);
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        throw new FlagError(
            `--project ${value}: has no Pulumi.yaml; expected a Pulumi project folder (default: this checkout)`,
        );
    }
    return dir;
}

/** `--image api=REF` flags as backend name to image. */
export function parseImages(values: readonly string[]): Record<string, string> {
    const images: Record<string, string> = {};
    for (const value of values) {
        const match = /^([A-Za-z0-9_-]+)=(\S+)$/.exec(value);
        if (!match) {
            throw new FlagError(
                `--image ${JSON.stringify(value)}: expected NAME=IMAGE, such as api=europe-docker.pkg.dev/p/chat/api:2`,
            );
        }
        if (match[1] in images) {
            throw new FlagError(`--image ${JSON.stringify(value)}: backend ${match[1]} is given twice`);
        }
        images[match[1]] = match[2];
    }
    return images;
}

/** The command's io (it reads no environment), plus what tests inject. */
export interface DeployIo extends Omit<CliIo, "env"> {
    /** Tests pass a stand-in they control; the CLI builds its own. */
    readonly target?: DeployTarget;
    /** A policy pack already serving, for the gate (tests share one); else the gate starts one. */
    readonly pack?: RunningPack;
}

/** Every flag of the command (its help line is in USAGE), as util.parseArgs takes them. */
const FLAGS = {
    stack: { type: "string", short: "s" },
    target: { type: "string" },
    "dry-run": { type: "boolean" },
    image: { type: "string", multiple: true },
    "allow-dirty": { type: "boolean" },
    watch: { type: "string" },
    interval: { type: "string" },
    "max-handshake-failure": { type: "string" },
    "max-5xx-increase": { type: "string" },
    "no-5xx-trigger": { type: "boolean" },
    keep: { type: "string" },
    "propagation-timeout": { type: "string" },
    hold: { type: "string" },
    endpoints: { type: "string" },
    threshold: { type: "string", multiple: true },
    "policy-pack": { type: "string" },
    project: { type: "string" },
    "local-cut-before": { type: "string" },
    "local-cut-after": { type: "string" },
    "local-program": { type: "string" },
    report: { type: "string" },
    "report-html": { type: "string" },
    "no-color": { type: "boolean" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

/** What is deployed, where from and how: every flag checked, in the order their errors are reported. */
interface Plan {
    readonly stack: string;
    readonly targetKind: "pulumi" | "local";
    readonly projectDir: string;
    readonly packDir: string;
    /** The Pulumi project's name, from its stack files. */
    readonly project: string;
    readonly localProgram: string | undefined;
    readonly revision: SourceRevision | undefined;
    readonly endpoints: string[];
    readonly keep: number;
}

/**
 * Checks the flags before any work, so a bad one stops the deploy before anything changed and a
 * finished deploy never ends in "cannot write".
 */
function planRun(values: Values): Plan {
    if (!values.stack) {
        throw new FlagError("--stack is required");
    }
    const targetKind = values.target ?? "pulumi";
    if (targetKind !== "pulumi" && targetKind !== "local") {
        throw new FlagError(`--target ${JSON.stringify(targetKind)}: allowed: pulumi, local`);
    }
    const projectDir = projectFlag(values.project);
    const packDir = path.resolve(values["policy-pack"] ?? path.join(projectDir, "policies"));
    checkPolicyPackDir(packDir, values["policy-pack"] ?? "policies");
    if (values.report !== undefined) {
        checkOutputPath("report", values.report);
    }
    if (values["report-html"] !== undefined) {
        checkOutputPath("report-html", values["report-html"]);
    }
    // Reads the stack's files now, so a missing stack stops here with its message.
    const stackConfig = loadStackConfig({ projectDir, stack: values.stack });
    const endpoints = endpointsFlag(values.endpoints);
    const localProgram = values["local-program"] ? path.resolve(values["local-program"]) : undefined;
    // The checkout whose commit is deployed and recorded: the stand-in's program, or this project.
    const revision = sourceRevision(targetKind === "local" && localProgram ? localProgram : projectDir);
    checkClean(revision, values["allow-dirty"] === true);
    return {
        stack: values.stack,
        targetKind,
        projectDir,
        packDir,
        project: stackConfig.project,
        localProgram,
        revision,
        endpoints,
        keep: keepFlag(values.keep),
    };
}

/** A checkout with uncommitted changes is refused: a deploy of it could never be rolled back to. */
function checkClean(revision: SourceRevision | undefined, allowDirty: boolean): void {
    if (!revision || revision.dirty.length === 0 || allowDirty) {
        return;
    }
    const shown = revision.dirty
        .slice(0, 3)
        .map((l) => l.slice(3))
        .join(", ");
    throw new UsageError(
        `the checkout at ${revision.repoDir} has uncommitted changes (${shown}${revision.dirty.length > 3 ? `, and ${revision.dirty.length - 3} more` : ""}); ` +
            "a deploy of it could never be rolled back to: commit them, or pass --allow-dirty",
    );
}

/** `--keep N`: a whole number of connections. */
function keepFlag(value: string | undefined): number {
    const keep = numberFlag("keep", value, 20, { allowZero: true, what: "number of connections" });
    if (!Number.isInteger(keep)) {
        throw new FlagError(`--keep ${JSON.stringify(value)}: expected a whole number of connections`);
    }
    return keep;
}

function pipelineOptions(values: Values, plan: Plan, io: DeployIo, log: (line: string) => void): PipelineOptions {
    return {
        stack: plan.stack,
        dryRun: values["dry-run"] === true,
        propagationTimeoutSec: seconds("propagation-timeout", values["propagation-timeout"], 300),
        validation: {
            ...VALIDATION_DEFAULTS,
            endpoints: plan.endpoints,
            thresholds: thresholdsFrom(values.threshold ?? []),
            holdSec: seconds("hold", values.hold, VALIDATION_DEFAULTS.holdSec),
        },
        watch: {
            durationSec: seconds("watch", values.watch, WATCH_DEFAULTS.durationSec),
            intervalSec: numberFlag("interval", values.interval, WATCH_DEFAULTS.intervalSec, {
                what: "number of seconds",
            }),
            maxHandshakeFailureRate: percent(
                "max-handshake-failure",
                values["max-handshake-failure"],
                WATCH_DEFAULTS.maxHandshakeFailureRate,
            ),
            max5xxIncrease: percent("max-5xx-increase", values["max-5xx-increase"], WATCH_DEFAULTS.max5xxIncrease),
            no5xxTrigger: values["no-5xx-trigger"] === true,
        },
        keep: { connections: plan.keep, probeIntervalMs: 1000 },
        change: { images: parseImages(values.image ?? []) },
        revision: plan.revision,
        reportFile: values.report,
        signal: io.signal,
        force: io.force,
        log,
    };
}

/** The pipeline's log to stdout, with the live line of the running phase following it. */
function phaseLog(io: DeployIo, progress: Progress): (line: string) => void {
    return (line: string) => {
        io.out(line);
        // The pipeline logs "▶ phase" as each phase starts.
        const started = /^▶ (.+)$/.exec(line);
        if (started) {
            progress.phase(started[1]);
        } else if (/^ {2}[A-Z]+ in [\d.]+ s/.test(line)) {
            progress.finish();
        }
    };
}

function startStandIn(values: Values, plan: Plan): Promise<LocalStandIn> {
    const after = values["local-cut-after"] ?? "none";
    return LocalStandIn.start({
        applied: { cutAfterSec: seconds("local-cut-before", values["local-cut-before"], 30) },
        desired: { cutAfterSec: after === "none" ? null : seconds("local-cut-after", after, 0) },
        programDir: plan.localProgram,
    });
}

function pulumiTarget(values: Values, plan: Plan, io: DeployIo): PulumiStackTarget {
    return new PulumiStackTarget({
        projectDir: plan.projectDir,
        stack: plan.stack,
        project: plan.project,
        packDir: plan.packDir,
        revision: plan.revision,
        // Asked for a report: the state before up is kept beside it (0600), else removed after.
        stateFile: values.report === undefined ? undefined : `${values.report}.state-before-up.json`,
        log: io.out,
    });
}

/** The timeline, the report files and the stderr summary of a finished run; its exit code. */
function finish(values: Values, plan: Plan, report: PipelineReport, io: DeployIo): number {
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
    const failure = failureLine(plan.stack, report);
    if (failure) {
        io.err(failure);
    }
    if (report.outcome === "interrupted") {
        io.err(
            `interrupted: ${report.notes[report.notes.length - 1] ?? "stopped"}${report.manualSteps ? "; to roll back, see the commands above" : ""}`,
        );
    }
    return report.exitCode;
}

export async function main(argv: string[], io: DeployIo): Promise<number> {
    let standIn: LocalStandIn | undefined;
    try {
        const values = parseFlags(argv, FLAGS).values;
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (values.version) {
            io.out(`deploy ${version()}`);
            return EXIT.ok;
        }
        const plan = planRun(values);
        // On a terminal, a live line with the running phase's elapsed time (stderr; none in pipes).
        const progress = new Progress(io.status);
        const options = pipelineOptions(values, plan, io, phaseLog(io, progress));
        let target = io.target;
        if (!target && plan.targetKind === "local") {
            standIn = await startStandIn(values, plan);
            target = standIn;
        }
        target ??= pulumiTarget(values, plan, io);
        const report = await runPipeline(
            target,
            offlineGate(plan.projectDir, plan.stack, plan.packDir, io.pack),
            options,
        ).finally(() => progress.finish());
        return finish(values, plan, report, io);
    } catch (e) {
        return reportError(io, e, { usage: USAGE });
    } finally {
        await standIn?.stop();
    }
}

/**
 * The one `error:` line on stderr for a deploy that did not deploy, whatever the phases printed
 * on stdout: scripts and people reading stderr alone learn what happened.
 */
function failureLine(stack: string, report: PipelineReport): string | undefined {
    const failed = report.phases.filter((p) => p.status === "failed").at(-1);
    const why = failed ? `${failed.name}: ${failed.detail.split("\n")[0]}` : "";
    switch (report.outcome) {
        case "not-started":
            return `error: deploy of ${stack} did not start, nothing was changed; ${why}`;
        case "rolled-back":
            return `error: deploy of ${stack} failed and was rolled back to its previous state; ${report.fired ? describeTrigger(report.fired) : why}`;
        case "rollback-failed":
            return `error: deploy of ${stack} failed and so did the rollback; see the steps above`;
        default:
            return undefined;
    }
}

/**
 * The deploy's HTML report: the last validation's charts, each phase as a band from its start
 * time, and the rollback trigger that fired (with its value and threshold), if one did.
 */
function writeDeployHtml(file: string, report: PipelineReport): string | undefined {
    const validations = Object.values(report.validations);
    const last = validations[validations.length - 1];
    if (!last) {
        return writeOutputFile(
            "report-html",
            file,
            `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>deploy ${report.stack}</title></head><body><h1>deploy ${report.stack}: ${report.outcome}</h1><p>No validation ran, so there is nothing to chart.</p></body></html>\n`,
        );
    }
    const phases = report.phases.map((p) => {
        const start = Date.parse(p.startedAt);
        return { name: p.name, status: p.status, start, end: start + p.seconds * 1000, detail: p.detail };
    });
    const trigger = report.fired ? [`rollback trigger: ${describeTrigger(report.fired)}`] : [];
    return writeOutputFile(
        "report-html",
        file,
        renderReportHtml(last, {
            title: `deploy ${report.stack} to ${report.target}: ${report.outcome}`,
            phases,
            notes: [`exit ${report.exitCode}`, ...trigger, ...report.notes],
        }),
    );
}

// The command: real streams; Ctrl-C stops the deploy at its next safe point (exit 130).
if (require.main === module) {
    runMain(main);
}
