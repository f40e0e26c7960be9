import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { errorText } from "../../cli/kit";
import { BackendConfig, CloudRunBackend, CONFIG_KEYS } from "../../infra/settings";
import { DeployTarget, Snapshot } from "../pipeline";

/**
 * The config a rollback restores: the saved config, with each Cloud Run backend pinned to the
 * revision that served before the deploy (the program turns `pinnedRevision` into a traffic
 * target), so traffic returns to code that is known to work even if the image tag moved.
 */
export function rollbackConfig(snapshot: Snapshot, project: string): Record<string, { value: string; secret: boolean }> {
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

/** Config keys present now that the snapshot did not have: a rollback removes them. */
export function keysToRemove(current: Record<string, unknown>, snapshot: Snapshot): string[] {
    return Object.keys(current).filter((k) => !(k in snapshot.config));
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

    constructor(private readonly options: { projectDir: string; stack: string; project: string; packDir: string; log: (line: string) => void }) {
        this.description = `Pulumi stack ${options.stack} (Automation API)`;
    }

    /** Selects the stack on first use, so the offline gate runs even where the CLI is missing. */
    private get stack(): Promise<Stack> {
        this.selected ??= LocalWorkspace.selectStack({ stackName: this.options.stack, workDir: this.options.projectDir }).catch((e: unknown) => {
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

    async preview(): Promise<string> {
        const result = await (await this.stack).preview({ policyPacks: [this.options.packDir], onOutput: this.output });
        return `changes: ${JSON.stringify(result.changeSummary)}`;
    }

    async snapshot(): Promise<Snapshot> {
        const stack = await this.stack;
        const config = Object.fromEntries(Object.entries(await stack.getAllConfig()).map(([k, v]) => [k, { value: v.value, secret: v.secret === true }]));
        const deployment = await stack.exportStack();
        const deploymentFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `deploy-${stack.name}-`)), "before.json");
        fs.writeFileSync(deploymentFile, JSON.stringify(deployment, null, 2));
        const outputs = await stack.outputs();
        const revisions = (outputs.cloudRunRevisions?.value ?? {}) as Record<string, string>;
        const info = await stack.info();
        return { config, version: info?.version, cloudRunRevisions: revisions, deploymentFile };
    }

    async up(): Promise<string> {
        const result = await (await this.stack).up({ policyPacks: [this.options.packDir], onOutput: this.output });
        return `${result.summary.result}: ${JSON.stringify(result.summary.resourceChanges ?? {})}`;
    }

    async rollback(snapshot: Snapshot): Promise<string> {
        const stack = await this.stack;
        const stale = keysToRemove(await stack.getAllConfig(), snapshot);
        if (stale.length > 0) {
            await stack.removeAllConfig(stale);
        }
        await stack.setAllConfig(rollbackConfig(snapshot, this.options.project) as ConfigMap);
        return `config restored${Object.keys(snapshot.cloudRunRevisions).length ? ", Cloud Run pinned to its previous revisions" : ""}; ${await this.up()}`;
    }

    async endpoint(): Promise<{ url: string; source: string } | undefined> {
        const url = endpointFromOutputs(await (await this.stack).outputs());
        return url ? { url, source: `stack ${this.options.stack} outputs` } : undefined;
    }
}
