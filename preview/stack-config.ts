import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { parseDocument } from "yaml";
import { UsageError } from "../cli/kit";
import { didYouMean } from "../cli/suggest";
import { UNDECLARED_CONFIG_KEYS } from "../infra/settings";

export interface StackConfig {
    readonly project: string;
    readonly stack: string;
    readonly projectDir: string;
    /** Raw config as the Pulumi CLI hands it to a program: `namespace:key` to string (JSON for structures). */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
    /** Things the user should know, such as secrets replaced by placeholders. */
    readonly notices: string[];
}

export const SECRET_PLACEHOLDER = "offline-preview-placeholder";

function readYaml(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
        // js-yaml's YAML 1.2 core schema reads a stack file as `yaml` does, ten times faster (a
        // 1,000-backend stack: 0.5 s to 0.05 s); test/preview/stack-config.test.ts holds the two
        // to the same result on the project's own stack files.
        return load(text, { schema: CORE_SCHEMA, filename: file });
    } catch {
        // The message stays yaml's, with its line.
    }
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
        const first = doc.errors[0];
        const at = first.linePos?.[0];
        // yaml's message ends in " at line L, column C:" and a drawing of the line: the position
        // goes in front, as compilers print it, and the message stays one complete line.
        const message = first.message
            .split("\n")[0]
            .replace(/ at line \d+, column \d+:?$/, "")
            .replace(/:$/, "");
        throw new UsageError(`${file}${at ? `:${at.line}:${at.col}` : ""}: malformed YAML: ${message}`);
    }
    return doc.toJS();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How the CLI stores a config value: strings as they are, everything else as JSON. */
function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function qualify(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** Stacks that have a `Pulumi.<stack>.yaml` beside `Pulumi.yaml`. */
export function listStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The `config:` mapping of a stack file, or undefined when it has none; anything else is refused. */
function stackConfigSection(stackFile: string, stackDoc: unknown): Record<string, unknown> | undefined {
    if (stackDoc === null || stackDoc === undefined) {
        return undefined;
    }
    if (!isRecord(stackDoc)) {
        throw new UsageError(`${stackFile}: expected a mapping with a config: section`);
    }
    const config = stackDoc.config;
    if (config !== undefined && config !== null && !isRecord(config)) {
        throw new UsageError(
            `${stackFile}: config is ${JSON.stringify(config)}; the stack file's config must be a mapping of key to value, such as config: {websocket-lb:backendTimeoutSec: 86400}`,
        );
    }
    return config ?? undefined;
}

export interface LoadOptions {
    readonly projectDir: string;
    readonly stack: string;
    /** Replaces `Pulumi.<stack>.yaml`, like the CLI's `--config-file`. */
    readonly stackFile?: string;
    /** `key=value` pairs, applied last, like `--config`. */
    readonly overrides?: readonly string[];
}

/**
 * Reads `Pulumi.yaml` (project name, config defaults) and the stack file, then applies overrides:
 * the same merge the Pulumi CLI does before it starts a program.
 */
export function loadStackConfig(options: LoadOptions): StackConfig {
    const projectFile = path.join(options.projectDir, "Pulumi.yaml");
    const project = readYaml(projectFile);
    if (!isRecord(project) || typeof project.name !== "string") {
        throw new UsageError(`${projectFile}: has no project name (name: ...)`);
    }
    const name = project.name;
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const notices: string[] = [];

    if (isRecord(project.config)) {
        for (const [key, declaration] of Object.entries(project.config)) {
            const value = isRecord(declaration) ? declaration.default : declaration;
            if (value !== undefined) {
                config[qualify(name, key)] = encode(value);
            }
        }
    }

    // Keys of the project's own namespace must be ones the program reads: Pulumi.yaml declares
    // them (read here, so a key added there is known at once), and a typo is an error, not a
    // silently ignored value. Other namespaces (gcp:project...) belong to their providers.
    const known = [...(isRecord(project.config) ? Object.keys(project.config) : []), ...UNDECLARED_CONFIG_KEYS];
    const unknown: string[] = [];
    const checkKey = (full: string, where: string) => {
        const bare = full.slice(name.length + 1);
        if (full.startsWith(`${name}:`) && !known.includes(bare)) {
            unknown.push(`${full} (${where}) is not a config key of ${name}${didYouMean(bare, known)}`);
        }
    };

    const stackFile = options.stackFile ?? path.join(options.projectDir, `Pulumi.${options.stack}.yaml`);
    if (!options.stackFile && !fs.existsSync(stackFile)) {
        const stacks = listStacks(options.projectDir);
        throw new UsageError(
            `unknown stack "${options.stack}": there is no ${path.basename(stackFile)}; stacks here: ${stacks.join(", ") || "none"}`,
        );
    }
    const stackConfig = stackConfigSection(stackFile, readYaml(stackFile));
    const secured: string[] = [];
    if (stackConfig) {
        for (const [key, value] of Object.entries(stackConfig)) {
            const full = qualify(name, key);
            checkKey(full, stackFile);
            if (isRecord(value) && typeof value.secure === "string" && Object.keys(value).length === 1) {
                config[full] = SECRET_PLACEHOLDER;
                secretKeys.push(full);
                secured.push(full);
            } else {
                config[full] = encode(value);
            }
        }
    }
    if (secured.length > 0) {
        notices.push(
            `secure values cannot be decrypted offline; ${secured.join(", ")} ${secured.length === 1 ? "was" : "were"} replaced by "${SECRET_PLACEHOLDER}"`,
        );
    }

    for (const pair of options.overrides ?? []) {
        const eq = pair.indexOf("=");
        if (eq <= 0) {
            throw new UsageError(
                `--config ${JSON.stringify(pair)}: expected key=value, such as backendTimeoutSec=86400`,
            );
        }
        config[qualify(name, pair.slice(0, eq))] = pair.slice(eq + 1);
        checkKey(qualify(name, pair.slice(0, eq)), `--config ${pair.slice(0, eq)}`);
    }
    if (unknown.length > 0) {
        throw new UsageError(unknown.length === 1 ? unknown[0] : `unknown config keys:\n  - ${unknown.join("\n  - ")}`);
    }
    return { project: name, stack: options.stack, projectDir: options.projectDir, config, secretKeys, notices };
}
