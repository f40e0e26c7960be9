import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { errorText, UsageError } from "../../cli/kit";
import { withStackPolicyConfig } from "../../preview";
import { BackendConfig, CloudRunBackend, CONFIG_KEYS } from "../../infra/settings";
import { CloudMonitoringSource, MetricsSource } from "../metrics";
import { DeployChange, DeployTarget, ImageOverride, Snapshot } from "../pipeline";
import { SourceRevision, withWorktree } from "../revisions";
import { detachedPulumiCommand } from "./pulumi-command";

/**
 * The stack tag that holds the commit of the last deploy that passed everything. A tag, not an
 * output, because it is written after the watch window, once the deploy is known to be good
 * (Automation API `Stack.setTag`, node_modules/@pulumi/pulumi/automation/stack.d.ts). Tag names
 * allow letters, digits, `-`, `_`, `.` and `:` (inferred from `pulumi stack tag set`'s errors).
 */
const LAST_GOOD_COMMIT_TAG = "websocket-lb:last-good-commit";

/**
 * The stack tag that holds, beside the last good commit, the images that deploy ran where they
 * differ from that commit's stack file (`--image`): `{"api":{"image":"...:1.4.3","over":"...:1.4.2"}}`.
 * Commit plus these is the config that really ran, so a rollback returns to exactly it, and a
 * later deploy without `--image` keeps them while the stack file still says what it said then.
 */
export const LAST_GOOD_IMAGES_TAG = "websocket-lb:last-good-images";

type PlainConfig = Record<string, { value: string; secret: boolean }>;

function backendsOf(config: PlainConfig, project: string): Record<string, BackendConfig> {
    const saved = config[`${project}:${CONFIG_KEYS.backends}`];
    return saved ? (JSON.parse(saved.value) as Record<string, BackendConfig>) : {};
}

function imageOf(backend: BackendConfig | undefined): string | undefined {
    return backend && "image" in backend && typeof backend.image === "string" ? backend.image : undefined;
}

/**
 * The images a deploy sets over the stack file: `--image` first, then each image the last good
 * deploy ran over the file, as long as the file still says what it said then (a changed file
 * is a new decision and wins).
 */
export function imagesToDeploy(
    fileConfig: PlainConfig,
    project: string,
    given: Readonly<Record<string, string>>,
    recorded: Readonly<Record<string, ImageOverride>>,
): Record<string, string> {
    const backends = backendsOf(fileConfig, project);
    const carried = Object.entries(recorded).filter(
        ([name, o]) => !(name in given) && name in backends && imageOf(backends[name]) === o.over,
    );
    return { ...Object.fromEntries(carried.map(([name, o]) => [name, o.image])), ...given };
}

/** The overrides to record after a good deploy: each set image that differs from the file's. */
export function overridesOf(
    fileConfig: PlainConfig,
    project: string,
    images: Readonly<Record<string, string>>,
): Record<string, ImageOverride> {
    const backends = backendsOf(fileConfig, project);
    return Object.fromEntries(
        Object.entries(images)
            .filter(([name, image]) => imageOf(backends[name]) !== image)
            .map(([name, image]) => [name, { image, over: imageOf(backends[name]) }]),
    );
}

/** The recorded overrides from the tag's text; anything unreadable is no record. */
export function parseOverrides(text: string | undefined): Record<string, ImageOverride> {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text ?? "{}");
    } catch {
        return {};
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return {};
    }
    return Object.fromEntries(
        Object.entries(parsed as Record<string, unknown>).filter(
            (e): e is [string, ImageOverride] =>
                typeof e[1] === "object" && e[1] !== null && typeof (e[1] as ImageOverride).image === "string",
        ),
    );
}

/**
 * Why the stack cannot be deployed now, or undefined: an update killed mid-way (kill -9, a
 * crash) leaves the stack locked and its state with pending operations, and an update on top of
 * either fails only after the gate, the preview and the baseline have run. The lock is looked for
 * where a file backend keeps it (`.pulumi/locks/<org>/<project>/<stack>/*.json`, pkg/backend/diy/
 * lock.go in the CLI's source), the pending operations in `pulumi stack export`'s
 * `deployment.pending_operations` (any backend).
 */
export function stackNotReady(
    stack: string,
    locks: ReadonlyArray<{ file: string; pid?: number; host?: string; since?: string }>,
    pendingOperations: number,
): string | undefined {
    if (locks.length === 0 && pendingOperations === 0) {
        return undefined;
    }
    const what = [
        ...locks.map(
            (l) =>
                `locked by ${l.file}${l.pid !== undefined ? ` (pid ${l.pid}${l.host ? ` on ${l.host}` : ""}${l.since ? ` since ${l.since}` : ""})` : ""}`,
        ),
        ...(pendingOperations > 0
            ? [`${pendingOperations} pending operation${pendingOperations === 1 ? "" : "s"} in its state`]
            : []),
    ].join("; ");
    return (
        `stack ${stack} is held by an update that did not finish (${what}); if no update of it is running, ` +
        `run: pulumi cancel --stack ${stack} --yes, then pulumi refresh --stack ${stack} --clear-pending-creates --yes, then deploy again`
    );
}

/** The backends config with the given images set: what `--image api=REF` changes for one deploy. */
export function withImages(
    config: Record<string, { value: string; secret: boolean }>,
    project: string,
    images: Readonly<Record<string, string>>,
): Record<string, { value: string; secret: boolean }> {
    if (Object.keys(images).length === 0) {
        return config;
    }
    const key = `${project}:${CONFIG_KEYS.backends}`;
    const saved = config[key];
    const backends = saved ? (JSON.parse(saved.value) as Record<string, BackendConfig>) : {};
    for (const [name, image] of Object.entries(images)) {
        const backend = backends[name];
        if (!backend) {
            throw new Error(
                `--image ${name}=${image}: no backend named ${name}; allowed: ${Object.keys(backends).join(", ") || "(no backends configured)"}`,
            );
        }
        if (backend.kind === "groups") {
            throw new Error(
                `--image ${name}=${image}: backend ${name} is of kind groups (existing instance groups), which has no image; allowed: instanceGroup or cloudRun backends`,
            );
        }
        backends[name] = { ...backend, image };
    }
    return { ...config, [key]: { value: JSON.stringify(backends), secret: saved?.secret ?? false } };
}

/**
 * The config a rollback restores: the saved config, with each Cloud Run backend pinned to the
 * revision that served before the deploy (the program turns `pinnedRevision` into a traffic
 * target), so traffic returns to code that is known to work even if the image tag moved.
 */
export function rollbackConfig(
    snapshot: Snapshot,
    project: string,
): Record<string, { value: string; secret: boolean }> {
    const key = `${project}:${CONFIG_KEYS.backends}`;
    const saved = snapshot.config[key];
    if (!saved || Object.keys(snapshot.cloudRunRevisions).length === 0) {
        return snapshot.config;
    }
    const backends = JSON.parse(saved.value) as Record<string, BackendConfig>;
    const cloudRun: CloudRunBackend["kind"] = "cloudRun";
    for (const [name, revision] of Object.entries(snapshot.cloudRunRevisions)) {
        if (backends[name]?.kind === cloudRun && revision) {
            backends[name] = { ...backends[name], pinnedRevision: revision } satisfies BackendConfig;
        }
    }
    return { ...snapshot.config, [key]: { value: JSON.stringify(backends), secret: saved.secret } };
}

/**
 * The backend fields that differ between two configs, as `pulumi config set --path` edits
 * (`backends.api.image`). The CLI enforces Pulumi.yaml's types, so a whole structured value set
 * as a string would be refused: edits go field by field and keep every other value's type.
 */
export function backendPathEdits(
    before: Record<string, { value: string; secret: boolean }>,
    after: Record<string, { value: string; secret: boolean }>,
    project: string,
): Array<{ path: string; value: string }> {
    const key = `${project}:${CONFIG_KEYS.backends}`;
    const parse = (config: Record<string, { value: string }>) =>
        config[key] ? (JSON.parse(config[key].value) as Record<string, BackendConfig>) : {};
    const [old, now] = [parse(before), parse(after)];
    const edits: Array<{ path: string; value: string }> = [];
    for (const [name, backend] of Object.entries(now)) {
        for (const [field, value] of Object.entries(backend)) {
            if (typeof value === "string" && old[name]?.[field as keyof BackendConfig] !== value) {
                edits.push({ path: `${CONFIG_KEYS.backends}.${name}.${field}`, value });
            }
        }
    }
    return edits;
}

/** The first wss:// base URL among the stack's `websocketUrls` output. */
export function endpointFromOutputs(outputs: Record<string, { value: unknown }>): string | undefined {
    const urls = outputs.websocketUrls?.value as Record<string, string[]> | undefined;
    const first = urls ? Object.values(urls)[0]?.[0] : undefined;
    return first ? new URL(first).origin.replace(/^http/, "ws") : undefined;
}

/** A real stack through Pulumi's Automation API: needs the Pulumi CLI and cloud credentials. */
export class PulumiStackTarget implements DeployTarget {
    readonly description: string;

    private selected?: Promise<Stack>;
    private command?: Promise<PulumiCommand>;
    /** The images the last `up` set over its stack file: recorded when the deploy proves good. */
    private deployedOverrides?: Record<string, ImageOverride>;

    constructor(
        private readonly options: {
            projectDir: string;
            stack: string;
            project: string;
            packDir: string;
            /** The checkout in git: deploys and rollbacks run from temporary worktrees of its commits. */
            revision?: SourceRevision;
            /**
             * Where the state exported before `up` is kept (`--report`'s folder): without it, a
             * private temporary folder that the pipeline removes once nobody needs the file.
             */
            stateFile?: string;
            log: (line: string) => void;
        },
    ) {
        this.description = `Pulumi stack ${options.stack} (Automation API)`;
    }

    /** The CLI, detached from the terminal's process group: a Ctrl-C never reaches a running update. */
    private get pulumiCommand(): Promise<PulumiCommand> {
        this.command ??= detachedPulumiCommand();
        return this.command;
    }

    private async select(workDir: string): Promise<Stack> {
        return LocalWorkspace.selectStack(
            { stackName: this.options.stack, workDir },
            { pulumiCommand: await this.pulumiCommand },
        );
    }

    /** Selects the stack on first use, so the offline gate runs even where the CLI is missing. */
    private get stack(): Promise<Stack> {
        this.selected ??= this.select(this.options.projectDir).catch((e: unknown) => {
            const text = errorText(e);
            throw new Error(
                /ENOENT|not found|could not find|unable to find/i.test(text)
                    ? `the Pulumi CLI is needed for ${this.description} and was not found (${text.split("\n")[0]}); install it, or use --target local`
                    : `cannot select stack ${this.options.stack}: ${text.split("\n")[0]}`,
            );
        });
        return this.selected;
    }

    private output = (out: string) => {
        for (const line of out.split("\n").filter(Boolean)) {
            this.options.log(`    | ${line}`);
        }
    };

    /** Refuses a stack that a killed update left locked or with pending operations (see stackNotReady). */
    async checkReady(): Promise<void> {
        const stack = await this.stack;
        const deployment = (await stack.exportStack()).deployment as { pending_operations?: unknown[] } | undefined;
        const pending = deployment?.pending_operations?.length ?? 0;
        const problem = stackNotReady(this.options.stack, await this.fileBackendLocks(stack), pending);
        if (problem) {
            throw new UsageError(problem);
        }
    }

    /** Lock files of a file:// backend for this stack (none for other backends: they keep locks themselves). */
    private async fileBackendLocks(
        stack: Stack,
    ): Promise<Array<{ file: string; pid?: number; host?: string; since?: string }>> {
        const url = (await stack.workspace.whoAmI()).url ?? process.env.PULUMI_BACKEND_URL ?? "";
        if (!url.startsWith("file://")) {
            return [];
        }
        const root = path.join(url.slice("file://".length).replace(/^~(?=\/)/, os.homedir()), ".pulumi", "locks");
        const dirs = [
            path.join(root, "organization", this.options.project, this.options.stack),
            path.join(root, this.options.stack),
        ];
        return dirs.flatMap((dir) =>
            (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
                .filter((f) => f.endsWith(".json"))
                .map((f) => {
                    const file = path.join(dir, f);
                    try {
                        const lock = JSON.parse(fs.readFileSync(file, "utf8")) as {
                            pid?: number;
                            hostname?: string;
                            timestamp?: string;
                        };
                        return { file, pid: lock.pid, host: lock.hostname, since: lock.timestamp };
                    } catch {
                        return { file };
                    }
                }),
        );
    }

    /** The overrides the last good deploy recorded (the stack tag), or none. */
    private async recordedOverrides(stack: Stack): Promise<Record<string, ImageOverride>> {
        return parseOverrides(await stack.getTag(LAST_GOOD_IMAGES_TAG).catch(() => undefined));
    }

    /**
     * Runs `use` on the stack with the config this deploy applies: from a clean checkout, in a
     * temporary worktree of its commit (so the images go into that copy and the user's
     * Pulumi.<stack>.yaml stays as it is); a checkout deployed with --allow-dirty in place (its
     * changes are in no commit). Preview and up both go through here, so the preview shows what
     * up will do.
     */
    private withDeployConfig<T>(
        change: DeployChange,
        keepInPlace: boolean,
        use: (stack: Stack, packDir: string) => Promise<T>,
    ): Promise<T> {
        const revision = this.options.revision;
        const apply = async (stack: Stack, packDir: string) => {
            const config = PulumiStackTarget.plainConfig(await stack.getAllConfig());
            const images = imagesToDeploy(
                config,
                this.options.project,
                change.images,
                await this.recordedOverrides(await this.stack),
            );
            await PulumiStackTarget.applyEdits(
                stack,
                backendPathEdits(config, withImages(config, this.options.project, images), this.options.project),
            );
            this.deployedOverrides = overridesOf(config, this.options.project, images);
            return use(stack, packDir);
        };
        if (revision && revision.dirty.length === 0) {
            return this.inWorktree(revision.commit, apply);
        }
        if (!keepInPlace) {
            // A preview in place leaves the user's stack file as it found it: the snapshot taken
            // after it must save the config as it was, not with this deploy's images.
            const file = path.join(this.options.projectDir, `Pulumi.${this.options.stack}.yaml`);
            const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
            return this.stack
                .then((stack) => apply(stack, this.options.packDir))
                .finally(() => text !== undefined && fs.writeFileSync(file, text));
        }
        return this.stack.then((stack) => apply(stack, this.options.packDir));
    }

    async preview(change: DeployChange): Promise<string> {
        return this.withDeployConfig(change, false, async (stack, packDir) => {
            // The pack judges the WebSocket paths this stack serves, as the offline gate did.
            const result = await this.withPackSettings(stack, packDir, (configs) =>
                stack.preview({ policyPacks: [packDir], policyPackConfigs: configs, onOutput: this.output }),
            );
            const images = Object.entries(this.deployedOverrides ?? {}).map(([name, o]) => `${name}=${o.image}`);
            return `changes: ${JSON.stringify(result.changeSummary)}${images.length ? `; images over the stack file: ${images.join(", ")}` : ""}`;
        });
    }

    /**
     * Runs `use` on this stack in a temporary worktree of `commit`: its program, its policy pack
     * (compiled there, as `npm ci` compiles it in a checkout) and its Pulumi.<stack>.yaml, which
     * may be edited there without touching the user's files.
     */
    private inWorktree<T>(commit: string, use: (stack: Stack, packDir: string) => Promise<T>): Promise<T> {
        const revision = this.options.revision!;
        const packPath = path.relative(this.options.projectDir, this.options.packDir);
        return withWorktree(revision, commit, async (dir) => use(await this.select(dir), path.join(dir, packPath)), {
            packPath,
        });
    }

    /**
     * Runs `use` with the `--policy-pack-config` files that give the pack this stack's own settings
     * (its websocketPaths), read from the folder the stack runs in: the checkout or a worktree.
     */
    private withPackSettings<T>(stack: Stack, packDir: string, use: (configs: string[]) => Promise<T>): Promise<T> {
        return withStackPolicyConfig(
            stack.workspace.workDir,
            this.options.stack,
            packDir,
            (file) => use(file ? [file] : []),
            (reason) =>
                this.options.log(
                    `    the pack judges its default settings: the stack's own are unavailable (${reason})`,
                ),
        );
    }

    /** `pulumi up` with the pack judging the WebSocket paths the stack's config serves. */
    private async upOn(stack: Stack, packDir: string): Promise<string> {
        const result = await this.withPackSettings(stack, packDir, (configs) =>
            stack.up({ policyPacks: [packDir], policyPackConfigs: configs, onOutput: this.output }),
        );
        return `${result.summary.result}: ${JSON.stringify(result.summary.resourceChanges ?? {})}`;
    }

    /** Path edits, one `pulumi config set --path` each, so every other value keeps its type. */
    private static async applyEdits(
        stack: Stack,
        edits: ReadonlyArray<{ path: string; value: string }>,
    ): Promise<void> {
        for (const edit of edits) {
            await stack.setConfig(edit.path, { value: edit.value }, true);
        }
    }

    private static plainConfig(config: ConfigMap): PlainConfig {
        return Object.fromEntries(
            Object.entries(config).map(([k, v]) => [k, { value: v.value, secret: v.secret === true }]),
        );
    }

    /**
     * The state before `up`, for an operator's `pulumi stack import`: it can hold secrets (in
     * ciphertext), so it is written 0600 in a folder only this user can read, and kept only where
     * the user asked for it (`--report`'s folder) or while the pipeline needs it.
     */
    private saveDeployment(deployment: unknown): { file: string; temporary: boolean } {
        const text = JSON.stringify(deployment, null, 2);
        if (this.options.stateFile) {
            fs.writeFileSync(this.options.stateFile, text, { mode: 0o600 });
            fs.chmodSync(this.options.stateFile, 0o600);
            return { file: this.options.stateFile, temporary: false };
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `deploy-${this.options.stack}-`));
        const file = path.join(dir, "before.json");
        fs.writeFileSync(file, text, { mode: 0o600 });
        return { file, temporary: true };
    }

    async snapshot(): Promise<Snapshot> {
        const stack = await this.stack;
        const config = PulumiStackTarget.plainConfig(await stack.getAllConfig());
        const saved = this.saveDeployment(await stack.exportStack());
        const outputs = await stack.outputs();
        const revisions = (outputs.cloudRunRevisions?.value ?? {}) as Record<string, string>;
        const history = await stack.history(1).catch(() => []);
        const lastGoodCommit = await stack.getTag(LAST_GOOD_COMMIT_TAG).catch(() => undefined);
        // The stack file as it is, typed values and encrypted secrets included: what a config restore writes back.
        const stackFile = path.join(this.options.projectDir, `Pulumi.${this.options.stack}.yaml`);
        const stackFileText = fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined;
        return {
            config,
            // The number of the stack's last update, as `pulumi stack history` shows it.
            version: history[0]?.version,
            cloudRunRevisions: revisions,
            deploymentFile: saved.file,
            deploymentFileTemporary: saved.temporary,
            lastGoodCommit: lastGoodCommit || undefined,
            lastGoodImages: await this.recordedOverrides(stack),
            stackFileText,
        };
    }

    async up(change: DeployChange): Promise<string> {
        return this.withDeployConfig(change, true, (stack, packDir) => this.upOn(stack, packDir));
    }

    /** The rollback's config: the saved one with the images that ran over it, Cloud Run pinned. */
    private rollbackEdits(snapshot: Snapshot, config: PlainConfig): Array<{ path: string; value: string }> {
        const images = Object.fromEntries(
            Object.entries(snapshot.lastGoodImages ?? {}).map(([name, o]) => [name, o.image]),
        );
        const project = this.options.project;
        return backendPathEdits(
            config,
            rollbackConfig({ ...snapshot, config: withImages(config, project, images) }, project),
            project,
        );
    }

    /**
     * Returns to what ran: with a recorded good commit, `up` from a temporary worktree of it (its
     * program and its stack config) with the images that commit's deploy ran over its stack file,
     * Cloud Run pinned to the revisions that served before. Without: the saved stack file restored
     * in place, with those images, and the detail says so.
     */
    async rollback(snapshot: Snapshot): Promise<string> {
        const pinned = Object.keys(snapshot.cloudRunRevisions).length
            ? ", Cloud Run pinned to its previous revisions"
            : "";
        const images = Object.entries(snapshot.lastGoodImages ?? {}).map(([name, o]) => `${name}=${o.image}`);
        const ran = images.length ? `, images it ran ${images.join(", ")}` : "";
        if (snapshot.lastGoodCommit && this.options.revision) {
            const commit = snapshot.lastGoodCommit;
            return this.inWorktree(commit, async (stack, packDir) => {
                const config = PulumiStackTarget.plainConfig(await stack.getAllConfig());
                await PulumiStackTarget.applyEdits(stack, this.rollbackEdits(snapshot, config));
                return `program and config of commit ${commit.slice(0, 12)} (temporary worktree)${ran}${pinned}; ${await this.upOn(stack, packDir)}`;
            });
        }
        const stack = await this.stack;
        if (snapshot.stackFileText === undefined) {
            throw new Error(`no recorded good commit and no saved Pulumi.${this.options.stack}.yaml to restore`);
        }
        // The saved stack file, typed values and secrets as they were; keys the deploy added go with it.
        fs.writeFileSync(
            path.join(this.options.projectDir, `Pulumi.${this.options.stack}.yaml`),
            snapshot.stackFileText,
        );
        await PulumiStackTarget.applyEdits(stack, this.rollbackEdits(snapshot, snapshot.config));
        return `no recorded good commit: config restored in place${ran}${pinned}, program of the checkout; ${await this.upOn(stack, this.options.packDir)}`;
    }

    async recordGood(commit: string): Promise<string> {
        const stack = await this.stack;
        const overrides = this.deployedOverrides ?? {};
        // The images first: a commit recorded without them would name a config that never ran.
        await stack.setTag(LAST_GOOD_IMAGES_TAG, JSON.stringify(overrides));
        await stack.setTag(LAST_GOOD_COMMIT_TAG, commit);
        const images = Object.entries(overrides).map(([name, o]) => `${name}=${o.image}`);
        return `stack tags ${LAST_GOOD_COMMIT_TAG}=${commit}, ${LAST_GOOD_IMAGES_TAG}: ${images.length ? images.join(", ") : "the stack file's images"}`;
    }

    /** Cloud Monitoring for the stack's HTTPS forwarding rule (output httpsForwardingRuleName), in gcp:project. */
    async metrics(): Promise<MetricsSource | undefined> {
        const stack = await this.stack;
        const rule: unknown = (await stack.outputs()).httpsForwardingRuleName?.value;
        const project = (await stack.getAllConfig())["gcp:project"]?.value;
        return typeof rule === "string" && project
            ? new CloudMonitoringSource({ project, forwardingRuleName: rule })
            : undefined;
    }

    /** Cloud Monitoring in gcp:project, whether or not the forwarding rule exists yet (a new stack). */
    async signalSource(): Promise<MetricsSource | undefined> {
        const stack = await this.stack;
        const rule: unknown = (await stack.outputs()).httpsForwardingRuleName?.value;
        const project = (await stack.getAllConfig())["gcp:project"]?.value;
        return project
            ? new CloudMonitoringSource({
                  project,
                  forwardingRuleName: typeof rule === "string" ? rule : "the-stack-s-https-forwarding-rule",
              })
            : undefined;
    }

    async endpoint(): Promise<{ url: string; source: string } | undefined> {
        const url = endpointFromOutputs(await (await this.stack).outputs());
        return url ? { url, source: `stack ${this.options.stack} outputs` } : undefined;
    }
}
