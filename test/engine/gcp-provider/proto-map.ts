/**
 * Where each enum-valued property the program sets lives in Google's own API definitions: the
 * Pulumi type and property path (`[]` for each list element) to the proto message and field, in
 * the .proto files the `@google-cloud/*` client libraries ship. Pulumi's names are not always the
 * API's (`ipProtocol` is `I_p_protocol`, `traffics` is `traffic`), so each entry names both.
 * test/engine/proto-map.test.ts fails when a resource of either stack sets an enum-like value at a
 * path missing here.
 */

/** Proto files, each from the package that ships it (`build/protos/` of the package). */
export const PROTO_FILES: Readonly<Record<string, string>> = {
    "google/cloud/compute/v1/compute.proto": "@google-cloud/compute",
    "google/monitoring/v3/alert.proto": "@google-cloud/monitoring",
    "google/monitoring/v3/uptime.proto": "@google-cloud/monitoring",
    "google/cloud/run/v2/service.proto": "@google-cloud/run",
    "google/cloud/functions/v2/functions.proto": "@google-cloud/functions",
    // MetricDescriptor (a log-based metric's descriptor) is imported by the monitoring protos and
    // shipped with google-gax, the client libraries' own runtime.
    "google/api/metric.proto": "google-gax",
};

export interface ProtoField {
    /** Pulumi type token. */
    readonly type: string;
    /** Property path in the Pulumi inputs; `[]` stands for every element of a list. */
    readonly path: string;
    /** Fully qualified proto message. */
    readonly message: string;
    /** Proto field name, as the .proto writes it. */
    readonly field: string;
}

const COMPUTE = "google.cloud.compute.v1";
const MONITORING = "google.monitoring.v3";
const RUN = "google.cloud.run.v2";
const FUNCTIONS = "google.cloud.functions.v2";

const T = {
    backendService: "gcp:compute/backendService:BackendService",
    firewall: "gcp:compute/firewall:Firewall",
    address: "gcp:compute/globalAddress:GlobalAddress",
    forwardingRule: "gcp:compute/globalForwardingRule:GlobalForwardingRule",
    certificate: "gcp:compute/managedSslCertificate:ManagedSslCertificate",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    neg: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
    routerNat: "gcp:compute/routerNat:RouterNat",
    sslPolicy: "gcp:compute/sSLPolicy:SSLPolicy",
    urlMap: "gcp:compute/uRLMap:URLMap",
    healthCheck: "gcp:compute/healthCheck:HealthCheck",
    subnetwork: "gcp:compute/subnetwork:Subnetwork",
    cloudRun: "gcp:cloudrunv2/service:Service",
    securityPolicy: "gcp:compute/securityPolicy:SecurityPolicy",
    fn: "gcp:cloudfunctionsv2/function:Function",
    alert: "gcp:monitoring/alertPolicy:AlertPolicy",
    uptime: "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    metric: "gcp:logging/metric:Metric",
} as const;

const f = (type: string, path: string, message: string, field: string): ProtoField => ({
    type,
    path,
    message,
    field,
});

/** Every path at which a URL map can carry a redirect (url_map.proto's HttpRedirectAction). */
const REDIRECT_PATHS = [
    "defaultUrlRedirect",
    "pathMatchers[].defaultUrlRedirect",
    "pathMatchers[].pathRules[].urlRedirect",
    "pathMatchers[].routeRules[].urlRedirect",
];

const aggregation = (prefix: string): ProtoField[] => [
    f(T.alert, `${prefix}.perSeriesAligner`, `${MONITORING}.Aggregation`, "per_series_aligner"),
    f(T.alert, `${prefix}.crossSeriesReducer`, `${MONITORING}.Aggregation`, "cross_series_reducer"),
];

export const ENUM_FIELDS: readonly ProtoField[] = [
    f(T.backendService, "backends[].balancingMode", `${COMPUTE}.Backend`, "balancing_mode"),
    f(T.backendService, "loadBalancingScheme", `${COMPUTE}.BackendService`, "load_balancing_scheme"),
    f(T.backendService, "localityLbPolicy", `${COMPUTE}.BackendService`, "locality_lb_policy"),
    f(T.backendService, "protocol", `${COMPUTE}.BackendService`, "protocol"),
    f(T.backendService, "sessionAffinity", `${COMPUTE}.BackendService`, "session_affinity"),
    f(T.firewall, "direction", `${COMPUTE}.Firewall`, "direction"),
    f(T.address, "addressType", `${COMPUTE}.Address`, "address_type"),
    f(T.address, "ipVersion", `${COMPUTE}.Address`, "ip_version"),
    f(T.forwardingRule, "ipProtocol", `${COMPUTE}.ForwardingRule`, "I_p_protocol"),
    f(T.forwardingRule, "loadBalancingScheme", `${COMPUTE}.ForwardingRule`, "load_balancing_scheme"),
    f(T.certificate, "type", `${COMPUTE}.SslCertificate`, "type"),
    f(T.mig, "updatePolicy.type", `${COMPUTE}.InstanceGroupManagerUpdatePolicy`, "type"),
    f(T.mig, "updatePolicy.minimalAction", `${COMPUTE}.InstanceGroupManagerUpdatePolicy`, "minimal_action"),
    f(T.mig, "updatePolicy.replacementMethod", `${COMPUTE}.InstanceGroupManagerUpdatePolicy`, "replacement_method"),
    f(
        T.mig,
        "updatePolicy.instanceRedistributionType",
        `${COMPUTE}.InstanceGroupManagerUpdatePolicy`,
        "instance_redistribution_type",
    ),
    f(T.neg, "networkEndpointType", `${COMPUTE}.NetworkEndpointGroup`, "network_endpoint_type"),
    f(T.routerNat, "natIpAllocateOption", `${COMPUTE}.RouterNat`, "nat_ip_allocate_option"),
    f(T.routerNat, "sourceSubnetworkIpRangesToNat", `${COMPUTE}.RouterNat`, "source_subnetwork_ip_ranges_to_nat"),
    f(T.routerNat, "logConfig.filter", `${COMPUTE}.RouterNatLogConfig`, "filter"),
    f(T.sslPolicy, "minTlsVersion", `${COMPUTE}.SslPolicy`, "min_tls_version"),
    f(T.sslPolicy, "profile", `${COMPUTE}.SslPolicy`, "profile"),
    ...REDIRECT_PATHS.map((p) =>
        f(T.urlMap, `${p}.redirectResponseCode`, `${COMPUTE}.HttpRedirectAction`, "redirect_response_code"),
    ),
    f(T.healthCheck, "httpHealthCheck.portSpecification", `${COMPUTE}.HTTPHealthCheck`, "port_specification"),
    f(T.subnetwork, "purpose", `${COMPUTE}.Subnetwork`, "purpose"),
    f(T.securityPolicy, "type", `${COMPUTE}.SecurityPolicy`, "type"),
    f(T.securityPolicy, "rules[].match.versionedExpr", `${COMPUTE}.SecurityPolicyRuleMatcher`, "versioned_expr"),
    f(
        T.securityPolicy,
        "rules[].rateLimitOptions.enforceOnKey",
        `${COMPUTE}.SecurityPolicyRuleRateLimitOptions`,
        "enforce_on_key",
    ),
    f(T.cloudRun, "ingress", `${RUN}.Service`, "ingress"),
    f(T.cloudRun, "traffics[].type", `${RUN}.TrafficTarget`, "type"),
    f(T.fn, "serviceConfig.ingressSettings", `${FUNCTIONS}.ServiceConfig`, "ingress_settings"),
    f(T.alert, "combiner", `${MONITORING}.AlertPolicy`, "combiner"),
    f(T.alert, "severity", `${MONITORING}.AlertPolicy`, "severity"),
    f(
        T.alert,
        "conditions[].conditionThreshold.comparison",
        `${MONITORING}.AlertPolicy.Condition.MetricThreshold`,
        "comparison",
    ),
    ...aggregation("conditions[].conditionThreshold.aggregations[]"),
    ...aggregation("conditions[].conditionThreshold.denominatorAggregations[]"),
    f(T.uptime, "checkerType", `${MONITORING}.UptimeCheckConfig`, "checker_type"),
    f(T.metric, "metricDescriptor.metricKind", "google.api.MetricDescriptor", "metric_kind"),
    f(T.metric, "metricDescriptor.valueType", "google.api.MetricDescriptor", "value_type"),
];

/**
 * Upper-case values of both stacks that are not an API enum: each says why, so the completeness
 * test can tell a forgotten mapping from a value that needs none.
 */
export const NOT_ENUMS: Readonly<Record<string, string>> = {
    "gcp:cloudfunctionsv2/function:Function serviceConfig.secretEnvironmentVariables[].key":
        "an environment variable's name (functions.proto SecretEnvVar.key is a string)",
    "gcp:cloudrunv2/service:Service template.containers[].envs[].name":
        "an environment variable's name (run/v2/k8s.min.proto EnvVar.name is a string)",
};
