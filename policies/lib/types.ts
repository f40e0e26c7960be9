// Pulumi type tokens of the resources the rules read. The pack matches on these strings
// rather than importing @pulumi/gcp classes: the pack then loads in a fraction of the time.

export const T = {
    backendService: "gcp:compute/backendService:BackendService",
    backendBucket: "gcp:compute/backendBucket:BackendBucket",
    regionBackendService: "gcp:compute/regionBackendService:RegionBackendService",
    urlMap: "gcp:compute/uRLMap:URLMap",
    regionUrlMap: "gcp:compute/regionUrlMap:RegionUrlMap",
    globalForwardingRule: "gcp:compute/globalForwardingRule:GlobalForwardingRule",
    forwardingRule: "gcp:compute/forwardingRule:ForwardingRule",
    targetHttpProxy: "gcp:compute/targetHttpProxy:TargetHttpProxy",
    regionTargetHttpProxy: "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy",
    targetHttpsProxy: "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
    regionTargetHttpsProxy: "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
    regionNetworkEndpointGroup: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
    sslPolicy: "gcp:compute/sSLPolicy:SSLPolicy",
    securityPolicy: "gcp:compute/securityPolicy:SecurityPolicy",
    regionSslPolicy: "gcp:compute/regionSslPolicy:RegionSslPolicy",
    cloudRunV2Service: "gcp:cloudrunv2/service:Service",
    cloudRunService: "gcp:cloudrun/service:Service",
} as const;

export const BACKEND_SERVICE_TYPES: readonly string[] = [T.backendService, T.regionBackendService];
export const URL_MAP_TYPES: readonly string[] = [T.urlMap, T.regionUrlMap];
export const FORWARDING_RULE_TYPES: readonly string[] = [T.globalForwardingRule, T.forwardingRule];
export const HTTP_PROXY_TYPES: readonly string[] = [T.targetHttpProxy, T.regionTargetHttpProxy];
export const HTTPS_PROXY_TYPES: readonly string[] = [T.targetHttpsProxy, T.regionTargetHttpsProxy];
export const SSL_POLICY_TYPES: readonly string[] = [T.sslPolicy, T.regionSslPolicy];
export const CLOUD_RUN_TYPES: readonly string[] = [T.cloudRunV2Service, T.cloudRunService];

/** "gcp:compute/backendService:BackendService" -> "BackendService". */
export function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}
