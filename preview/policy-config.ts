import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Level, PackInfo, PolicyConfigEntry, PolicyInfo } from "./analyzer";
import { UsageError } from "../cli/kit";
import { didYouMean } from "../cli/suggest";
import { isRecord, loadStackConfig, StackConfig } from "./stack-config";

const LEVELS: readonly Level[] = ["advisory", "mandatory", "remediate", "disabled"];

function level(file: string, key: string, value: unknown): Level {
    if (typeof value !== "string" || !(LEVELS as readonly string[]).includes(value)) {
        throw new UsageError(`${file}: ${key} is ${JSON.stringify(value)}; allowed: ${LEVELS.join(", ")}`);
    }
    return value as Level;
}

function checkValue(file: string, at: string, schema: PolicyInfo["configSchema"][string], value: unknown): void {
    const fail = (allowed: string) => {
        throw new UsageError(`${file}: ${at} is ${JSON.stringify(value)}; allowed: ${allowed}`);
    };
    switch (schema.type) {
        case "integer":
            if (
                typeof value !== "number" ||
                !Number.isInteger(value) ||
                (schema.minimum !== undefined && value < schema.minimum)
            ) {
                fail(`an integer${schema.minimum !== undefined ? ` of at least ${schema.minimum}` : ""}`);
            }
            break;
        case "array":
            if (!Array.isArray(value) || value.some((v) => typeof v !== (schema.items?.type ?? "string"))) {
                fail(`a list of ${schema.items?.type ?? "string"}s`);
            }
            for (const item of value as unknown[]) {
                if (schema.items?.enum && !schema.items.enum.includes(item)) {
                    fail(`items from ${schema.items.enum.join(", ")}`);
                }
            }
            break;
        case "string":
            if (typeof value !== "string") {
                fail("a string");
            }
            break;
    }
}

/**
 * Reads a `--policy-pack-config` file: a JSON object. The commands call it before any work, so a
 * missing or malformed file is one line at once rather than after the program and the pack ran.
 */
export function loadPolicyConfigFile(file: string): Record<string, unknown> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new UsageError(
            `--policy-pack-config ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : `cannot read it (${code ?? String(e)})`}; expected a JSON file of policy name to level or settings`,
        );
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new UsageError(`--policy-pack-config ${file}: not valid JSON: ${(e as Error).message}`);
    }
    if (!isRecord(parsed)) {
        throw new UsageError(
            `--policy-pack-config ${file}: expected a JSON object of policy name to level or settings`,
        );
    }
    // Levels need no pack to be judged: a bad one is found here, before anything starts.
    for (const [name, entry] of Object.entries(parsed)) {
        if (typeof entry === "string") {
            level(file, name, entry);
        } else if (isRecord(entry)) {
            if (entry.enforcementLevel !== undefined || name === "all") {
                level(file, `${name}.enforcementLevel`, entry.enforcementLevel);
            }
        } else {
            throw new UsageError(
                `${file}: ${name} is ${JSON.stringify(entry)}; allowed: a level (${LEVELS.join(", ")}) or an object with enforcementLevel and settings`,
            );
        }
    }
    return parsed;
}

/**
 * Checks `--policy-pack DIR` before any work: a folder with a PulumiPolicy.yaml, as the Pulumi CLI
 * expects, instead of "spawn node ENOENT" from deep in the pack's start.
 */
export function checkPolicyPackDir(dir: string, given: string): void {
    const stat = fs.statSync(dir, { throwIfNoEntry: false });
    if (!stat) {
        throw new UsageError(
            `--policy-pack ${given}: no such folder; expected a policy pack folder with PulumiPolicy.yaml (default: policies)`,
        );
    }
    if (!stat.isDirectory()) {
        throw new UsageError(
            `--policy-pack ${given}: is a file; expected a policy pack folder with PulumiPolicy.yaml (default: policies)`,
        );
    }
    if (!fs.existsSync(path.join(dir, "PulumiPolicy.yaml"))) {
        throw new UsageError(
            `--policy-pack ${given}: has no PulumiPolicy.yaml, so it is not a policy pack (default: policies)`,
        );
    }
}

/** Pack settings a stack's own config decides: the pack judges the paths the stack really serves. */
const STACK_SETTINGS = ["websocketPaths"] as const;

/**
 * The pack settings the stack's own config gives (its `websocketPaths`, with Pulumi.yaml's
 * default when the stack sets none). A value the program would refuse is left out: the program's
 * run reports it, naming the key.
 */
export function stackPolicySettings(stack: StackConfig): Record<string, unknown> {
    const settings: Record<string, unknown> = {};
    for (const key of STACK_SETTINGS) {
        const raw = stack.config[`${stack.project}:${key}`];
        let value: unknown;
        try {
            value = raw === undefined ? undefined : JSON.parse(raw);
        } catch {
            continue;
        }
        if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
            settings[key] = value;
        }
    }
    return settings;
}

/**
 * The stack's settings as a `--policy-pack-config` document: each setting under every policy
 * whose schema has it. The deploy pipeline hands this to the Pulumi CLI; `pulumi preview` users
 * write the same by hand (docs/policies.md).
 */
export function stackPolicyConfigDocument(info: PackInfo, stack: StackConfig): Record<string, Record<string, unknown>> {
    const settings = stackPolicySettings(stack);
    const document: Record<string, Record<string, unknown>> = {};
    for (const policy of info.policies) {
        const mine = Object.entries(settings).filter(([key]) => policy.configSchema[key] !== undefined);
        if (mine.length > 0) {
            document[policy.name] = Object.fromEntries(mine);
        }
    }
    return document;
}

/**
 * What the CLI sends in Configure: every policy at its level with its schema defaults, the stack's
 * own settings over them (`fromStack`, see stackPolicySettings), then the `--policy-pack-config`
 * file on top (`all` sets every level; a policy's entry is a level or an object with
 * `enforcementLevel` and its properties). Values are checked against each schema.
 */
export function resolvePolicyConfig(
    info: PackInfo,
    file?: string,
    fromStack: Record<string, unknown> = {},
): Record<string, PolicyConfigEntry> {
    const given = file ? loadPolicyConfigFile(file) : {};
    const names = info.policies.map((p) => p.name);
    for (const key of Object.keys(given)) {
        if (key !== "all" && !names.includes(key)) {
            throw new UsageError(
                `${file}: ${key} is not a policy of ${info.name}${didYouMean(key, names)}; policies: ${names.join(", ")}`,
            );
        }
    }
    const all =
        given.all === undefined
            ? undefined
            : level(file!, "all", isRecord(given.all) ? given.all.enforcementLevel : given.all);

    const result: Record<string, PolicyConfigEntry> = {};
    for (const policy of info.policies) {
        const properties: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries(policy.configSchema)) {
            if (fromStack[key] !== undefined) {
                properties[key] = fromStack[key];
            } else if (schema.default !== undefined) {
                properties[key] = schema.default;
            }
        }
        let policyLevel = all ?? policy.level;
        const entry = given[policy.name];
        if (typeof entry === "string") {
            policyLevel = level(file!, policy.name, entry);
        } else if (isRecord(entry)) {
            for (const [key, value] of Object.entries(entry)) {
                if (key === "enforcementLevel") {
                    policyLevel = level(file!, `${policy.name}.enforcementLevel`, value);
                    continue;
                }
                const schema = policy.configSchema[key];
                if (!schema) {
                    const known = Object.keys(policy.configSchema);
                    throw new UsageError(
                        `${file}: ${policy.name}.${key} is not a setting of that policy${didYouMean(key, [...known, "enforcementLevel"])}; settings: ${known.length ? known.join(", ") : "none"} and enforcementLevel`,
                    );
                }
                checkValue(file!, `${policy.name}.${key}`, schema, value);
                properties[key] = value;
            }
        } else if (entry !== undefined) {
            throw new UsageError(
                `${file}: ${policy.name} is ${JSON.stringify(entry)}; allowed: a level or an object with enforcementLevel and settings`,
            );
        }
        result[policy.name] = { level: policyLevel, properties };
    }
    return result;
}

/**
 * Runs `use` with the stack's own pack settings (see stackPolicyConfigDocument) in a
 * `--policy-pack-config` file for the Pulumi CLI, removed afterwards. The pack is started once to
 * learn which of its policies take which setting. When the file cannot be made (a stack file that
 * does not parse, a pack that does not start), `use` gets undefined and `unavailable` the reason:
 * a deploy or a rollback then runs with the pack's defaults rather than not at all.
 */
export async function withStackPolicyConfig<T>(
    projectDir: string,
    stackName: string,
    packDir: string,
    use: (file: string | undefined) => Promise<T>,
    unavailable: (reason: string) => void = () => undefined,
): Promise<T> {
    let document: Record<string, Record<string, unknown>>;
    try {
        document = await stackPolicyDocumentOf(projectDir, stackName, packDir);
    } catch (e) {
        unavailable((e instanceof Error ? e.message : String(e)).split("\n")[0]);
        return use(undefined);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "websocket-lb-policy-"));
    try {
        const file = path.join(dir, "policy-config.json");
        fs.writeFileSync(file, JSON.stringify(document, null, 2) + "\n");
        return await use(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function stackPolicyDocumentOf(
    projectDir: string,
    stackName: string,
    packDir: string,
): Promise<Record<string, Record<string, unknown>>> {
    // Loaded here: the commands that only read a config file start without the gRPC client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RunningPack } = require("./analyzer") as typeof import("./analyzer");
    const stack = loadStackConfig({ projectDir, stack: stackName });
    const pack = await RunningPack.start(packDir).ready;
    try {
        return stackPolicyConfigDocument(await pack.info(), stack);
    } finally {
        pack.stop();
    }
}
