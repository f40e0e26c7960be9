// The validator's public face: what the deploy pipeline, the benchmarks and other programs use.
// It knows nothing of Pulumi: it takes URLs and reports what a client sees.
export { validate, ValidateOptions, Report, reportJson } from "./run";
export { renderReport } from "./report";
export { DEFAULT_ENDPOINTS, LOAD_DEFAULTS, MONITOR_DEFAULTS, VALIDATION_DEFAULTS } from "./defaults";
export {
    DEFAULT_THRESHOLDS,
    METRICS,
    Metric,
    parseThreshold,
    Threshold,
    ThresholdError,
    thresholdsFrom,
} from "./thresholds";
export { FAILURE_CODES, Failure, FailureCode, HANDSHAKE_FAILURES } from "./codes";
export { Diagnosis, EndpointResult, HoldMode, HoldResult, ProbeOptions } from "./probe";
export { LoadResult } from "./load";
export { MonitorProbe, MonitorResult } from "./monitor";
/** Chat-level checks: scenario files, the affinity check, the synthetic monitor's check. */
export { loadScenario, parseScenario, Scenario, ScenarioError, SCHEMA_FILE } from "./scenario";
export { CheckResult, ScenarioResult, StepFailure } from "./scenario-run";
export { AffinityOptions, AffinityResult, BackendIdSource, DEFAULT_AFFINITY_COOKIE } from "./affinity";
export { runChatChecks, SYNTHETIC_ENV } from "./synthetic-monitor";
/** A WebSocket echo server on 127.0.0.1: the `local` target, and a backend for tests. */
export { EchoServer, startEchoServer } from "./echo-server";
/** The report as a self-contained HTML page with charts; the deploy pipeline adds its phases. */
export { HtmlPhase, HtmlReportExtras, renderReportHtml } from "./report-html";
