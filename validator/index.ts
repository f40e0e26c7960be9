// The validator's public face: what the deploy pipeline, the benchmarks and other programs use.
// It knows nothing of Pulumi: it takes URLs and reports what a client sees. Inside, three rooms:
// core/ (connect, probe, hold, load, monitor), scenario/ (chat checks) and report/ (thresholds,
// text and HTML reports), each imported through its own index.ts.
export { validate, ValidateOptions } from "./run";
export {
    DEFAULT_THRESHOLDS,
    HtmlPhase,
    HtmlReportExtras,
    METRICS,
    Metric,
    parseThreshold,
    renderReport,
    renderReportHtml,
    Report,
    reportJson,
    Threshold,
    ThresholdError,
    thresholdsFrom,
} from "./report";
/** A WebSocket echo server on 127.0.0.1 (the `local` target, and a backend for tests) and the probe core's vocabulary. */
export {
    DEFAULT_ENDPOINTS,
    Diagnosis,
    EchoServer,
    EndpointResult,
    FAILURE_CODES,
    Failure,
    FailureCode,
    HANDSHAKE_FAILURES,
    HoldMode,
    HoldResult,
    LOAD_DEFAULTS,
    LoadResult,
    MONITOR_DEFAULTS,
    MonitorProbe,
    MonitorResult,
    ProbeOptions,
    startEchoServer,
    VALIDATION_DEFAULTS,
} from "./core";
/** Chat-level checks: scenario files, the affinity check, the synthetic monitor's check. */
export {
    AffinityOptions,
    AffinityResult,
    BackendIdSource,
    CheckResult,
    DEFAULT_AFFINITY_COOKIE,
    loadScenario,
    parseScenario,
    Scenario,
    ScenarioError,
    ScenarioResult,
    SCHEMA_FILE,
    StepFailure,
} from "./scenario";
export { runChatChecks, SYNTHETIC_ENV } from "./synthetic-monitor";
