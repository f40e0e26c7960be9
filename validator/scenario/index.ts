// The chat checks' public face: scripted scenarios (parsed from YAML, run step by step), the
// affinity check and their command-line flags. The report room and the validator's top level import
// them through this file only.
export { chatFlags, CHAT_FLAGS, CHAT_USAGE } from "./flags";
export { loadScenario, parseScenario, Scenario, ScenarioError, SCHEMA_FILE } from "./parse";
export type { CheckResult, ScenarioResult, StepFailure } from "./run";
export type { AffinityOptions, AffinityResult, BackendIdSource } from "./affinity";
export { DEFAULT_AFFINITY_COOKIE } from "./affinity";
