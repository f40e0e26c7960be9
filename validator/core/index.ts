// The probe core's public face: connecting, probing, holding, loading and monitoring one endpoint,
// the failure codes they report and the defaults they start from. The scenario and report rooms and
// the validator's top level import the core through this file only (a test holds them to it).
export { FAILURE_CODES, Failure, FailureCode, HANDSHAKE_FAILURES, failure } from "./codes";
export { closeSocket, ConnectOptions, openSocket, ResolveEntry, SocketPool } from "./connect";
export { DEFAULT_ENDPOINTS, LOAD_DEFAULTS, MAX_WAIT_SEC, MONITOR_DEFAULTS, VALIDATION_DEFAULTS } from "./defaults";
export {
    decodeHistogram,
    distributionOf,
    encodeHistogram,
    Histogram,
    HISTOGRAM_PRECISION,
    histogramOf,
    mergeHistograms,
    percentileMs,
} from "./histogram";
export { EchoServer, startEchoServer } from "./echo-server";
export { runLoad, LoadCounts, LoadResult } from "./load";
export type { MonitorProbe, MonitorResult } from "./monitor";
export { Diagnosis, EndpointResult, endpointUrl, HoldMode, HoldResult, probeEndpoint, ProbeOptions } from "./probe";
export { distribution, Distribution, percentile, round } from "./stats";
export { checkBaseUrl, resolveEnvironment, Target } from "./targets";
export {
    checkOrigin,
    checkRateLimit,
    FOREIGN_ORIGIN,
    OriginCheckOptions,
    RateLimitCheckOptions,
    SecurityCheckResult,
} from "./security";
