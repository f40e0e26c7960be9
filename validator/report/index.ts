// The reports' public face: what a run found (the report's shape), k6-style thresholds that judge
// it, and the text and HTML renderings. The validator's top level imports them through this file.
export { Report, reportJson, writeReportFiles } from "./model";
export { describeFailure, renderReport } from "./text";
export { HtmlPhase, HtmlReportExtras, renderReportHtml } from "./html";
export {
    DEFAULT_THRESHOLDS,
    evaluate,
    Metric,
    METRICS,
    parseThreshold,
    SCENARIO_DEFAULT_THRESHOLD,
    Threshold,
    ThresholdError,
    thresholdsFrom,
} from "./thresholds";
export { Counter, COUNTERS, mergeTallies, metricsOfTally, parseShard, ShardError, shardJson, Tally } from "./tally";
