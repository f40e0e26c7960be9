import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { errorText } from "../../cli/kit";
import { BackendConfig, CloudRunBackend, CONFIG_KEYS } from "../../infra/settings";
import { CloudMonitoringSource, MetricsSource } from "../metrics";
import { DeployChange, DeployTarget, Snapshot } from "../pipeline";
import { SourceRevision, withWorktree } from "../revisions";

/**
 * The stack tag that holds the commit of the last deploy that passed everything. A tag, not an
 * output, because it is written after the watch window, once the deploy is known to be good
 * (Automation API `Stack.setTag`, node_modules/@pulumi/pulumi/automation/stack.d.ts). Tag names
 * allow letters, digits, `-`, `_`, `.` and `:` (inferred from `pulumi stack tag set`'s errors).
 */
export const LAST_GOOD_COMMIT_TAG = "websocket-lb:last-good-commit";

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

    constructor(
        private readonly options: {
            projectDir: string;
            stack: string;
            project: string;
            packDir: string;
            /** The checkout in git: deploys and rollbacks run from temporary worktrees of its commits. */
            revision?: SourceRevision;
            log: (line: string) => void;
        },
    ) {
        this.description = `Pulumi stack ${options.stack} (Automation API)`;
    }

    /** Selects the stack on first use, so the offline gate runs even where the CLI is missing. */
    private get stack(): Promise<Stack> {
        this.selected ??= LocalWorkspace.selectStack({
            stackName: this.options.stack,
            workDir: this.options.projectDir,
        }).catch((e: unknown) => {
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

    async preview(change: DeployChange): Promise<string> {
        if (Object.keys(change.images).length) {
            // Checks the names now; the images themselves are set in the deploy's worktree.
            const stack = await this.stack;
            withImages(
                Object.fromEntries(
                    Object.entries(await stack.getAllConfig()).map(([k, v]) => [
                        k,
                        { value: v.value, secret: v.secret === true },
                    ]),
                ),
                this.options.project,
                change.images,
            );
        }
        const result = await (await this.stack).preview({ policyPacks: [this.options.packDir], onOutput: this.output });
        return `changes: ${JSON.stringify(result.changeSummary)}`;
    }

    /**
     * Runs `use` on this stack in a temporary worktree of `commit`: its program, its policy pack
     * and its Pulumi.<stack>.yaml, which may be edited there without touching the user's files.
     */
    private inWorktree<T>(commit: string, use: (stack: Stack, packDir: string) => Promise<T>): Promise<T> {
        const revision = this.options.revision!;
        return withWorktree(revision, commit, async (dir) => {
            const stack = await LocalWorkspace.selectStack({ stackName: this.options.stack, workDir: dir });
            return use(stack, path.join(dir, path.relative(this.options.projectDir, this.options.packDir)));
        });
    }

    private async upOn(stack: Stack, packDir: string): Promise<string> {
        const result = await stack.up({ policyPacks: [packDir], onOutput: this.output });
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

    private static plainConfig(config: ConfigMap): Record<string, { value: string; secret: boolean }> {
        return Object.fromEntries(
            Object.entries(config).map(([k, v]) => [k, { value: v.value, secret: v.secret === true }]),
        );
    }

    async snapshot(): Promise<Snapshot> {
        const stack = await this.stack;
        const config = Object.fromEntries(
            Object.entries(await stack.getAllConfig()).map(([k, v]) => [
                k,
                { value: v.value, secret: v.secret === true },
            ]),
        );
        const deployment = await stack.exportStack();
        const deploymentFile = path.join(
            fs.mkdtempSync(path.join(os.tmpdir(), `deploy-${stack.name}-`)),
            "before.json",
        );
        fs.writeFileSync(deploymentFile, JSON.stringify(deployment, null, 2));
        const outputs = await stack.outputs();
        const revisions = (outputs.cloudRunRevisions?.value ?? {}) as Record<string, string>;
        const info = await stack.info();
        const lastGoodCommit = await stack.getTag(LAST_GOOD_COMMIT_TAG).catch(() => undefined);
        // The stack file as it is, typed values and encrypted secrets included: what a config restore writes back.
        const stackFile = path.join(this.options.projectDir, `Pulumi.${this.options.stack}.yaml`);
        const stackFileText = fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined;
        return {
            config,
            version: info?.version,
            cloudRunRevisions: revisions,
            deploymentFile,
            lastGoodCommit: lastGoodCommit || undefined,
            stackFileText,
        };
    }

    /**
     * From a clean checkout, `up` runs in a temporary worktree of its commit, so the images of
     * `--image` go into that copy's config and the user's Pulumi.<stack>.yaml stays as it is. A
     * checkout deployed with --allow-dirty runs in place (its changes are not in any commit).
     */
    async up(change: DeployChange): Promise<string> {
        const revision = this.options.revision;
        const apply = async (stack: Stack, packDir: string) => {
            const config = PulumiStackTarget.plainConfig(await stack.getAllConfig());
            await PulumiStackTarget.applyEdits(
                stack,
                backendPathEdits(config, withImages(config, this.options.project, change.images), this.options.project),
            );
            return this.upOn(stack, packDir);
        };
        if (revision && revision.dirty.length === 0) {
            return this.inWorktree(revision.commit, apply);
        }
        return apply(await this.stack, this.options.packDir);
    }

    /**
     * With a recorded good commit: `up` from a temporary worktree of it (its program and its stack
     * config), Cloud Run pinned to the revisions that served before. Without: the saved config
     * restored in place, as before this pipeline recorded commits, and the detail says so.
     */
    async rollback(snapshot: Snapshot): Promise<string> {
        const pinned = Object.keys(snapshot.cloudRunRevisions).length
            ? ", Cloud Run pinned to its previous revisions"
            : "";
        if (snapshot.lastGoodCommit && this.options.revision) {
            const commit = snapshot.lastGoodCommit;
            return this.inWorktree(commit, async (stack, packDir) => {
                const config = PulumiStackTarget.plainConfig(await stack.getAllConfig());
                await PulumiStackTarget.applyEdits(
                    stack,
                    backendPathEdits(
                        config,
                        rollbackConfig({ ...snapshot, config }, this.options.project),
                        this.options.project,
                    ),
                );
                return `program and config of commit ${commit.slice(0, 12)} (temporary worktree)${pinned}; ${await this.upOn(stack, packDir)}`;
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
        await PulumiStackTarget.applyEdits(
            stack,
            backendPathEdits(snapshot.config, rollbackConfig(snapshot, this.options.project), this.options.project),
        );
        return `no recorded good commit: config restored in place${pinned}, program of the checkout; ${await this.upOn(stack, this.options.packDir)}`;
    }

    async recordGood(commit: string): Promise<string> {
        await (await this.stack).setTag(LAST_GOOD_COMMIT_TAG, commit);
        return `stack tag ${LAST_GOOD_COMMIT_TAG}=${commit}`;
    }

    /** Cloud Monitoring for the stack's HTTPS forwarding rule (output httpsForwardingRuleName), in gcp:project. */
    async metrics(): Promise<MetricsSource | undefined> {
        const stack = await this.stack;
        const rule = (await stack.outputs()).httpsForwardingRuleName?.value;
        const project = (await stack.getAllConfig())["gcp:project"]?.value;
        return typeof rule === "string" && project
            ? new CloudMonitoringSource({ project, forwardingRuleName: rule })
            : undefined;
    }

    /** Cloud Monitoring in gcp:project, whether or not the forwarding rule exists yet (a new stack). */
    async signalSource(): Promise<MetricsSource | undefined> {
        const stack = await this.stack;
        const rule = (await stack.outputs()).httpsForwardingRuleName?.value;
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
