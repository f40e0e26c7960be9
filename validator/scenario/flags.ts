import { boundedFlag, FlagError } from "../../cli/kit";
import { AffinityOptions, DEFAULT_AFFINITY_COOKIE, parseBackendIdSource } from "./affinity";
import { DEFAULT_ENDPOINTS } from "../core";
import type { Scenario } from "./parse";

// The command line's chat-level flags, kept here so validator/cli.ts only spreads them in.

export const CHAT_FLAGS = {
    scenario: { type: "string" },
    affinity: { type: "string" },
    "affinity-cookie": { type: "string" },
    "affinity-path": { type: "string" },
    "backend-id": { type: "string" },
} as const;

export const CHAT_USAGE = `      --scenario FILE         run the named checks of a scenario file (YAML or JSON; see
                              validator/scenarios/chat.yaml); judged by check_success_rate
      --affinity N            take the affinity cookie from a 101, reconnect N times (1 to 1000)
                              with it and check every reconnection reached the same backend
      --affinity-cookie NAME  (default ${DEFAULT_AFFINITY_COOKIE}, the load balancer's GENERATED_COOKIE)
      --affinity-path PATH    (default ${DEFAULT_ENDPOINTS[0]})
      --backend-id SOURCE     where a backend names itself: header:NAME or json:FIELD of the first
                              message (default header:x-backend-id)
                              --scenario and --affinity skip the default probes unless --endpoints is given`;

export interface ChatOptions {
    readonly scenario?: Scenario;
    readonly affinity?: AffinityOptions;
    /** True when the run is about scenarios or affinity, not the default endpoint probes. */
    readonly replacesProbes: boolean;
}

type Values = Partial<Record<keyof typeof CHAT_FLAGS, string | boolean | Array<string | boolean>>>;

export function chatFlags(values: Values, env: NodeJS.ProcessEnv): ChatOptions {
    const text = (name: keyof typeof CHAT_FLAGS) => (typeof values[name] === "string" ? values[name] : undefined);
    // The scenario loader (and ajv and yaml with it) only for --scenario, and synchronously, so
    // the flags are still checked in one go before anything starts.
    const scenarioFile = text("scenario");
    const scenario =
        scenarioFile === undefined
            ? undefined
            : // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, and only for --scenario
              (require("./parse") as typeof import("./parse")).loadScenario(scenarioFile, env);
    const affinityPath = text("affinity-path") ?? DEFAULT_ENDPOINTS[0];
    if (!affinityPath.startsWith("/")) {
        throw new FlagError(`--affinity-path ${JSON.stringify(affinityPath)}: expected a path starting with /`);
    }
    const affinity =
        text("affinity") === undefined
            ? undefined
            : {
                  reconnects: boundedFlag("affinity", text("affinity"), 0, {
                      min: 1,
                      max: 1000,
                      integer: true,
                      unit: "reconnections",
                  }),
                  cookieName: text("affinity-cookie") ?? DEFAULT_AFFINITY_COOKIE,
                  backendId: parseBackendIdSource(text("backend-id") ?? "header:x-backend-id"),
                  path: affinityPath,
              };
    return { scenario, affinity, replacesProbes: scenario !== undefined || affinity !== undefined };
}
