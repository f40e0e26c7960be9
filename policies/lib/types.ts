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
    regionInstanceGroupManager: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    instanceGroupManager: "gcp:compute/instanceGroupManager:InstanceGroupManager",
    regionAutoscaler: "gcp:compute/regionAutoscaler:RegionAutoscaler",
    autoscaler: "gcp:compute/autoscaler:Autoscaler",
    cloudRunV2Service: "gcp:cloudrunv2/service:Service",
    cloudRunService: "gcp:cloudrun/service:Service",
    healthCheck: "gcp:compute/healthCheck:HealthCheck",
    regionHealthCheck: "gcp:compute/regionHealthCheck:RegionHealthCheck",
    firewall: "gcp:compute/firewall:Firewall",
    instanceGroup: "gcp:compute/instanceGroup:InstanceGroup",
    instanceTemplate: "gcp:compute/instanceTemplate:InstanceTemplate",
    regionInstanceTemplate: "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
    cloudFunctionV2: "gcp:cloudfunctionsv2/function:Function",
} as const;

export const BACKEND_SERVICE_TYPES: readonly string[] = [T.backendService, T.regionBackendService];
export const URL_MAP_TYPES: readonly string[] = [T.urlMap, T.regionUrlMap];
export const FORWARDING_RULE_TYPES: readonly string[] = [T.globalForwardingRule, T.forwardingRule];
export const HTTP_PROXY_TYPES: readonly string[] = [T.targetHttpProxy, T.regionTargetHttpProxy];
export const HTTPS_PROXY_TYPES: readonly string[] = [T.targetHttpsProxy, T.regionTargetHttpsProxy];
export const SSL_POLICY_TYPES: readonly string[] = [T.sslPolicy, T.regionSslPolicy];
export const HEALTH_CHECK_TYPES: readonly string[] = [T.healthCheck, T.regionHealthCheck];
/** Instance groups a stack can declare: managed (zonal, regional) and unmanaged; each has `namedPorts`. */
export const INSTANCE_GROUP_TYPES: readonly string[] = [
    T.instanceGroupManager,
    T.regionInstanceGroupManager,
    T.instanceGroup,
];
export const INSTANCE_TEMPLATE_TYPES: readonly string[] = [T.instanceTemplate, T.regionInstanceTemplate];
export const MIG_TYPES: readonly string[] = [T.regionInstanceGroupManager, T.instanceGroupManager];
export const AUTOSCALER_TYPES: readonly string[] = [T.regionAutoscaler, T.autoscaler];
export const CLOUD_RUN_TYPES: readonly string[] = [T.cloudRunV2Service, T.cloudRunService];

/** "gcp:compute/backendService:BackendService" -> "BackendService". */
export function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}
