import * as fs from "fs";
import * as path from "path";
import { FlagError } from "../../cli/kit";

/** A target the command line named that cannot be used. */
class TargetError extends FlagError {}

export interface Target {
    /** Base URL, such as wss://chat.example.com or ws://127.0.0.1:8080. */
    readonly url: string;
    /** Where it came from, for the report. */
    readonly source: string;
}

const ENVIRONMENTS_FILE = path.join(__dirname, "..", "environments.json");

export function checkBaseUrl(url: string, from: string): string {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw new TargetError(
            `${from} ${JSON.stringify(url)}: not a URL; expected wss://host[:port] or ws://host[:port]`,
        );
    }
    if (parsed.protocol !== "wss:" && parsed.protocol !== "ws:") {
        throw new TargetError(`${from} ${JSON.stringify(url)}: scheme ${parsed.protocol} is not ws: or wss:`);
    }
    return `${parsed.protocol}//${parsed.host}`;
}

/**
 * An environment name to a base URL: from `pulumi stack output --json` output when given (its
 * `websocketUrls` maps each domain to wss:// URLs), else from validator/environments.json.
 */
export function resolveEnvironment(
    name: string,
    stackOutputsFile?: string,
    environmentsFile = ENVIRONMENTS_FILE,
): Target {
    if (stackOutputsFile) {
        let outputs: { websocketUrls?: Record<string, string[]> };
        try {
            outputs = JSON.parse(fs.readFileSync(stackOutputsFile, "utf8")) as typeof outputs;
        } catch (e) {
            throw new TargetError(
                `--stack-outputs ${stackOutputsFile}: cannot read it as JSON (${(e as Error).message})`,
            );
        }
        const first = Object.values(outputs.websocketUrls ?? {})[0]?.[0];
        if (!first) {
            throw new TargetError(
                `--stack-outputs ${stackOutputsFile}: has no websocketUrls; expected the output of pulumi stack output --json for this project`,
            );
        }
        return {
            url: checkBaseUrl(first, "--stack-outputs websocketUrls"),
            source: `${name} from ${stackOutputsFile}`,
        };
    }
    const environments = JSON.parse(fs.readFileSync(environmentsFile, "utf8")) as Record<string, { url: string }>;
    const environment = environments[name];
    if (!environment) {
        throw new TargetError(
            `unknown environment ${JSON.stringify(name)}; known: local, ${Object.keys(environments).join(", ")} (or pass --url)`,
        );
    }
    return {
        url: checkBaseUrl(environment.url, `${path.basename(environmentsFile)} ${name}`),
        source: `${name} from ${path.basename(environmentsFile)}`,
    };
}
