// The offline preview's public face: the stack's program under Pulumi's mock runtime, the real
// policy pack over its analyzer protocol. Its command (cli.ts) and the deploy pipeline's gate use it.
export { previewOffline, PreviewOptions, PreviewResult } from "./preview";
export { Diagnostic, Level, NotApplicable, PackError, PackInfo, PolicyConfigEntry, RunningPack } from "./analyzer";
export {
    checkPolicyPackDir,
    loadPolicyConfigFile,
    resolvePolicyConfig,
    stackPolicyConfigDocument,
    stackPolicySettings,
    withStackPolicyConfig,
} from "./policy-config";
export { buildPackIfStale } from "./pack-build";
export { ProgramError } from "./program-error";
export { ProgramRun, RecordedResource, runProgram, RunOptions } from "./program";
export { renderHuman, renderOutputs, settingsOf, summarize, Summary, summaryLine } from "./render";
export { listStacks, loadStackConfig, LoadOptions, SECRET_PLACEHOLDER, StackConfig } from "./stack-config";
