import { PolicyConfigSchema } from "@pulumi/policy";
import { HTTP_UNUSABLE_AFFINITIES, SESSION_AFFINITIES } from "./gcp-facts";

// One JSON schema entry per setting, shared by the policies that read it, so the same key
// means the same thing (and has the same default) in every policy.
export const SETTINGS = {
    minTimeoutSec: {
        type: "integer",
        minimum: 1,
        default: 86_400,
        description: "Shortest WebSocket lifetime, in seconds, a backend or route may allow.",
    },
    minAffinityTtlSec: {
        type: "integer",
        minimum: 0,
        default: 86_400,
        description: "Shortest affinity cookie lifetime, in seconds.",
    },
    websocketPaths: {
        type: "array",
        items: { type: "string" },
        default: ["/ws", "/ws/*", "/websocket", "/websocket/*"],
        description: "URL-map paths that carry WebSockets.",
    },
    allowedAffinities: {
        type: "array",
        items: {
            type: "string",
            enum: SESSION_AFFINITIES.filter((a) => a !== "NONE" && !HTTP_UNUSABLE_AFFINITIES.includes(a)),
        },
        default: ["GENERATED_COOKIE", "HTTP_COOKIE", "STRONG_COOKIE_AFFINITY", "CLIENT_IP", "HEADER_FIELD"],
        description:
            "Session affinities a WebSocket backend may use (NONE is never allowed; the scheme's own limits apply on top).",
    },
    maxHttpTimeoutSec: {
        type: "integer",
        minimum: 1,
        default: 600,
        description: "Longest effective timeout, in seconds, a route that serves no WebSocket path should have.",
    },
} as const;

export interface PackSettings {
    minTimeoutSec: number;
    minAffinityTtlSec: number;
    websocketPaths: string[];
    allowedAffinities: string[];
    maxHttpTimeoutSec: number;
}
type Key = keyof PackSettings;

/** The config schema of a policy that reads the given settings. */
export function schemaFor(...keys: Key[]): PolicyConfigSchema {
    return { properties: Object.fromEntries(keys.map((k) => [k, SETTINGS[k]])) };
}

/**
 * The policy's config with schema defaults under whatever the engine passed. The engine fills
 * defaults itself; doing it here too keeps a pack that was never configured on its defaults.
 */
export function settingsFrom<K extends Key>(
    getConfig: () => Record<string, unknown>,
    ...keys: K[]
): Pick<PackSettings, K> {
    const given = getConfig();
    const result: Record<string, unknown> = {};
    for (const key of keys) {
        result[key] = given[key] ?? structuredClone(SETTINGS[key].default);
    }
    return result as Pick<PackSettings, K>;
}
