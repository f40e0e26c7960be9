import * as fs from "fs";
import * as path from "path";
import { Level, PackInfo, PolicyConfigEntry, PolicyInfo } from "./analyzer";
import { UsageError } from "../cli/kit";
import { didYouMean } from "../cli/suggest";
import { isRecord } from "./stack-config";

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

/**
 * What the CLI sends in Configure: every policy at its level with its schema defaults, then the
 * `--policy-pack-config` file on top (`all` sets every level; a policy's entry is a level or an
 * object with `enforcementLevel` and its properties). Values are checked against each schema.
 */
export function resolvePolicyConfig(info: PackInfo, file?: string): Record<string, PolicyConfigEntry> {
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
            if (schema.default !== undefined) {
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
