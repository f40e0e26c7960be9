import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError, parseSettings } from "./config";
import { LoadBalancerSettings, WebSocketLoadBalancerArgs } from "./settings";

// The component's arguments become settings through the stack's own parser, so a program that
// consumes the component package gets exactly the checks `pulumi config` values get. Defaults
// come from the same place as the stack's: the `config:` block of this project's Pulumi.yaml.

const PROJECT_FILE = path.resolve(__dirname, "..", "Pulumi.yaml");

interface ProjectConfig {
    /** Every key the `config:` block declares. */
    readonly keys: readonly string[];
    /** Each key's `default`, where it has one. */
    readonly defaults: Readonly<Record<string, unknown>>;
}

let projectConfig: ProjectConfig | undefined;

/** Pulumi.yaml's `config:` block, read once. */
function readProjectConfig(): ProjectConfig {
    if (!projectConfig) {
        const project = parse(fs.readFileSync(PROJECT_FILE, "utf8")) as { config?: Record<string, unknown> };
        const defaults: Record<string, unknown> = {};
        for (const [key, spec] of Object.entries(project.config ?? {})) {
            if (typeof spec === "object" && spec !== null && "default" in spec) {
                defaults[key] = spec.default;
            }
        }
        projectConfig = { keys: Object.keys(project.config ?? {}), defaults: Object.freeze(defaults) };
    }
    return projectConfig;
}

/** The key names the stack's parser prefixes every problem with; stripped for a component's user. */
const NAMESPACE = "args";

/** Arguments the stack has no config key for: secrets arrive here as Outputs, not as text. */
const SECRET_ARGS = ["pagingWebhookToken", "pagerDutyServiceKeys"];

/**
 * Validates a component's arguments into settings. Every problem is reported at once, as an
 * InputPropertiesError: the engine prints each with its argument's path, with no stack trace.
 */
export function settingsFromArgs(args: WebSocketLoadBalancerArgs, name: string): LoadBalancerSettings {
    const given = args as unknown as Record<string, unknown>;
    const { keys, defaults } = readProjectConfig();
    const unknownArgs = Object.keys(given).filter((key) => !keys.includes(key) && !SECRET_ARGS.includes(key));
    const found = unknownArgs.map(
        (key) => `${NAMESPACE}:${key} is an unknown argument; allowed: ${[...keys, ...SECRET_ARGS].join(", ")}`,
    );
    let settings: LoadBalancerSettings | undefined;
    try {
        settings = parseSettings((key) => {
            const value = given[key] ?? defaults[key];
            return value === undefined ? undefined : JSON.stringify(value);
        }, NAMESPACE);
    } catch (e) {
        if (!(e instanceof ConfigError)) {
            throw e;
        }
        found.push(...e.problems);
    }
    if (found.length > 0 || !settings) {
        throw new pulumi.InputPropertiesError({
            message: `invalid arguments to WebSocketLoadBalancer ${name}`,
            errors: found.map(asPropertyError),
        });
    }
    const token = args.pagingWebhookToken;
    const serviceKeys = args.pagerDutyServiceKeys;
    if (token === undefined && serviceKeys === undefined) {
        return settings;
    }
    return Object.freeze({
        ...settings,
        monitoring: Object.freeze({
            ...settings.monitoring,
            pagingWebhookToken: token === undefined ? undefined : pulumi.secret(token),
            pagerDutyServiceKeys: serviceKeys === undefined ? undefined : pulumi.secret(pulumi.output(serviceKeys)),
        }),
    });
}

/** "args:backends.api.port is 0; allowed: ..." as {propertyPath: "backends.api.port", reason: "is 0; allowed: ..."}. */
function asPropertyError(problem: string): { propertyPath: string; reason: string } {
    const text = problem.startsWith(`${NAMESPACE}:`) ? problem.slice(NAMESPACE.length + 1) : problem;
    const space = text.indexOf(" ");
    return space < 0
        ? { propertyPath: "", reason: text }
        : { propertyPath: text.slice(0, space), reason: text.slice(space + 1) };
}
