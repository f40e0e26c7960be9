// The pack's public face for the Google Cloud facts it judges by. The program imports this file
// (never `lib/`), so both sides agree on the numbers while the pack stays publishable on its own.
// Each fact cites its source beside its definition in lib/gcp-facts.ts.
export {
    CLASSIC_AFFINITIES,
    CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
    headerNameProblem,
    LOAD_BALANCING_SCHEMES,
    LoadBalancingScheme,
    MAX_AFFINITY_COOKIE_TTL_SEC,
    MAX_CONNECTION_DRAINING_SEC,
    pathPatternProblem,
    RECOMMENDED_MAX_TIMEOUT_SEC,
    TTL_COOKIE_AFFINITIES,
    wildcardBase,
} from "./lib/gcp-facts";
