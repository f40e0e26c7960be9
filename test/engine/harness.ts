import { runProcess } from "../helpers/cli";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The engine tier: the real Pulumi CLI built by scripts/pulumi-cli.sh, against the gcp stand-in. */
export const ROOT = path.resolve(__dirname, "..", "..");
export const TOOLS_BIN = path.join(ROOT, ".tools", "bin");
const PULUMI = path.join(TOOLS_BIN, "pulumi");
const LANGUAGE_HOST = path.join(TOOLS_BIN, "pulumi-language-nodejs");
const PULUMI_HOME = path.join(ROOT, ".tools", "pulumi-home");
const GCP_PLUGIN = path.join(PULUMI_HOME, "plugins", "resource-gcp-v9.37.0", "pulumi-resource-gcp");
export const POLICY_PACK = path.join(ROOT, "policies");
const NODE_BIN = path.join(ROOT, "node_modules", "node", "bin");

/** What the tier needs that is not there, each named; empty when everything is built. */
export function missingTools(): string[] {
    return [PULUMI, LANGUAGE_HOST, GCP_PLUGIN].filter((file) => !fs.existsSync(file));
}

/** Skips the calling suite, loudly, when a binary is missing. */
export function requireTools(ctx: Mocha.Context): void {
    const missing = missingTools();
    if (missing.length > 0) {
        const message = `ENGINE TIER SKIPPED: missing ${missing.join(", ")} (run scripts/pulumi-cli.sh; see docs/engine-tier.md)`;
        console.error(`\n  !!! ${message}\n`);
        ctx.skip();
    }
}

export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly command: string;
}

/** One engine event from `--event-log` (JSON lines), reduced to what the tests read. */
export interface EngineEvent {
    readonly policyEvent?: { resourceUrn?: string; policyName: string; enforcementLevel: string; message: string };
    readonly policyRemediationEvent?: {
        resourceUrn: string;
        policyName: string;
        before?: Record<string, unknown>;
        after?: Record<string, unknown>;
    };
    readonly resourcePreEvent?: {
        metadata: { op: string; urn: string; type: string; new?: { inputs?: Record<string, unknown> } };
    };
    readonly policyLoadEvent?: object;
    readonly policyAnalyzeSummaryEvent?: { resourceUrn: string; policyPackName: string; policyPackVersion: string };
    readonly diagnosticEvent?: { severity: string; message: string; urn?: string };
}

export interface Verdict {
    readonly policy: string;
    readonly level: string;
    readonly urn?: string;
}

/** The resource name in a URN (after the last `::`). */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/**
 * A throwaway project directory: copies of Pulumi.yaml and the stack files (the CLI writes to
 * them: encryption salt, config set), links to the program, its modules and the pack; its own
 * file backend, passphrase and pretend cloud. Nothing in the repository is written.
 */
export class Workspace {
    readonly dir: string;
    readonly backendDir: string;
    readonly cloudFile: string;
    private constructor(readonly root: string) {
        this.dir = path.join(root, "project");
        this.backendDir = path.join(root, "backend");
        this.cloudFile = path.join(root, "cloud.json");
    }

    static create(
        label: string,
        stackFiles: Record<string, string>,
        projectYaml = path.join(ROOT, "Pulumi.yaml"),
    ): Workspace {
        const ws = new Workspace(fs.mkdtempSync(path.join(os.tmpdir(), `engine-${label}-`)));
        fs.mkdirSync(ws.dir);
        fs.mkdirSync(ws.backendDir);
        for (const entry of ["index.ts", "infra", "policies", "node_modules", "package.json", "tsconfig.json"]) {
            fs.symlinkSync(path.join(ROOT, entry), path.join(ws.dir, entry));
        }
        fs.copyFileSync(projectYaml, path.join(ws.dir, "Pulumi.yaml"));
        for (const [stack, file] of Object.entries(stackFiles)) {
            fs.copyFileSync(file, ws.stackFile(stack));
        }
        return ws;
    }

    /** A workspace for a small test program of its own (a folder with Pulumi.yaml and index.ts). */
    static fromFixture(label: string, fixtureDir: string, stackFiles: Record<string, string>): Workspace {
        const ws = new Workspace(fs.mkdtempSync(path.join(os.tmpdir(), `engine-${label}-`)));
        fs.mkdirSync(ws.dir);
        fs.mkdirSync(ws.backendDir);
        for (const entry of fs.readdirSync(fixtureDir)) {
            fs.copyFileSync(path.join(fixtureDir, entry), path.join(ws.dir, entry));
        }
        for (const entry of ["node_modules", "tsconfig.json"]) {
            fs.symlinkSync(path.join(ROOT, entry), path.join(ws.dir, entry));
        }
        for (const [stack, file] of Object.entries(stackFiles)) {
            fs.copyFileSync(file, ws.stackFile(stack));
        }
        return ws;
    }

    /** `pulumi stack init` for each stack, failing loudly. */
    async initStacks(stacks: readonly string[]): Promise<void> {
        for (const stack of stacks) {
            const result = await this.pulumi(["stack", "init", stack, "--non-interactive"]);
            if (result.code !== 0) {
                throw new Error(show(result));
            }
        }
    }

    stackFile(stack: string): string {
        return path.join(this.dir, `Pulumi.${stack}.yaml`);
    }

    env(): NodeJS.ProcessEnv {
        return {
            ...process.env,
            // The CLI finds the language host beside itself; programs and packs run on Node 22.
            PATH: [TOOLS_BIN, NODE_BIN, process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_HOME,
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: "engine-tier-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            GCP_STANDIN_CLOUD_FILE: this.cloudFile,
            NO_COLOR: "1",
        };
    }

    /** Runs the real CLI in the project directory. */
    async pulumi(args: string[], timeoutMs = 600_000, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
        const command = `pulumi ${args.join(" ")}`;
        const result = await runProcess(PULUMI, [...args, "--color", "never"], {
            cwd: this.dir,
            env: { ...this.env(), ...extraEnv },
            timeoutMs,
            label: command,
        });
        return { ...result, command };
    }

    /**
     * Runs `pulumi preview` with the engine's event stream on stdout (`--json` with
     * PULUMI_ENABLE_STREAMING_JSON_PREVIEW) and returns its result and events.
     */
    async previewWithEvents(args: string[], timeoutMs?: number): Promise<RunResult & { events: EngineEvent[] }> {
        const result = await this.pulumi(["preview", ...args, "--json"], timeoutMs, {
            PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true",
        });
        const events = result.stdout
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line) as EngineEvent);
        return { ...result, events };
    }

    /** What the pretend cloud holds now (resource id to type), as the stand-in recorded it. */
    cloud(): Record<string, string> {
        if (!fs.existsSync(this.cloudFile)) {
            return {};
        }
        const records = JSON.parse(fs.readFileSync(this.cloudFile, "utf8")) as Record<string, { type: string }>;
        return Object.fromEntries(Object.entries(records).map(([id, r]) => [id, r.type]));
    }

    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/**
 * Policy verdicts in an event stream, deduplicated: each violation with its level and resource,
 * and each remediation the engine applied at level "remediate".
 */
export function verdicts(events: readonly EngineEvent[]): Verdict[] {
    const seen = new Map<string, Verdict>();
    for (const e of events) {
        const v = e.policyEvent
            ? {
                  policy: e.policyEvent.policyName,
                  level: e.policyEvent.enforcementLevel,
                  urn: e.policyEvent.resourceUrn || undefined,
              }
            : e.policyRemediationEvent
              ? {
                    policy: e.policyRemediationEvent.policyName,
                    level: "remediate",
                    urn: e.policyRemediationEvent.resourceUrn,
                }
              : undefined;
        if (v) {
            seen.set(`${v.policy}|${v.level}|${v.urn ?? ""}`, v);
        }
    }
    return [...seen.values()];
}

/** A verdict as one comparable line: `level policy resource-name`. */
export function verdictKey(v: Verdict): string {
    const onStack = !v.urn || v.urn.includes("::pulumi:pulumi:Stack::");
    return `${v.level} ${v.policy} ${onStack ? "(stack)" : urnName(v.urn)}`;
}

/** The resources a preview or update stepped over, as `type name`. */
export function steppedResources(events: readonly EngineEvent[]): string[] {
    const found = new Set<string>();
    for (const e of events) {
        const meta = e.resourcePreEvent?.metadata;
        if (meta && meta.type !== "pulumi:providers:gcp") {
            found.add(`${meta.type} ${urnName(meta.urn)}`);
        }
    }
    return [...found].sort();
}

/** Explains a failed command in an assertion message. */
export function show(result: RunResult): string {
    return `${result.command} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
