import { headerNameProblem, runtimeStage } from "../../../policies/facts";
import { Cloud } from "./cloud";
import { Problem, valuesAt } from "./enum-checks";
import { protoFacts } from "./google-protos";

// Rules Google's APIs enforce that are not enums: each quotes its proto comment or names its doc.

type Props = Record<string, unknown>;

const COMPUTE_PROTO = "@google-cloud/compute/build/protos/google/cloud/compute/v1/compute.proto";
const ALERT_PROTO = "@google-cloud/monitoring/build/protos/google/monitoring/v3/alert.proto";
const UPTIME_PROTO = "@google-cloud/monitoring/build/protos/google/monitoring/v3/uptime.proto";
const SERVERLESS_NEGS = "https://cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts";
const MIG_SURGE =
    "https://cloud.google.com/compute/docs/instance-groups/rolling-out-updates-to-managed-instance-groups#max_surge";
const RUNTIMES = "https://cloud.google.com/run/docs/runtimes/function-runtimes";
const RUN_SECRETS = "https://cloud.google.com/run/docs/configuring/services/secrets";
const CUSTOM_HEADERS = "https://cloud.google.com/load-balancing/docs/https/custom-headers-global";

const fold = (text: string) => text.replace(/\s+/g, " ").trim();
/** The sentence of a field's proto comment that states the rule. */
function quote(field: string, pattern: RegExp): string {
    const comment = fold(protoFacts().comments[field] ?? "");
    return comment.split(/(?<=\.)\s/).find((s) => pattern.test(s)) ?? comment;
}
const isRecord = (v: unknown): v is Props => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Capacity settings of a backend, which only balancing modes give meaning to. */
const CAPACITY_FIELDS = [
    "balancingMode",
    "capacityScaler",
    "maxRate",
    "maxRatePerInstance",
    "maxRatePerEndpoint",
    "maxUtilization",
    "maxConnections",
    "maxConnectionsPerInstance",
    "maxConnectionsPerEndpoint",
    "maxInFlightRequests",
];

export function backendServiceRules(props: Props, serverless: boolean): Problem[] {
    const problems: Problem[] = [];
    const bs = "google.cloud.compute.v1.BackendService";
    const healthChecks = typeof props.healthChecks === "string" ? [props.healthChecks] : list(props.healthChecks);
    if (serverless && healthChecks.length !== 0) {
        problems.push({
            message: `Invalid value for field 'resource.healthChecks': ${JSON.stringify(props.healthChecks)}. ${quote(`${bs}.health_checks`, /serverless NEG/)}`,
            source: `${COMPUTE_PROTO} (BackendService.health_checks)`,
        });
    }
    if (serverless) {
        list(props.backends).forEach((b, i) => {
            const set = isRecord(b) ? CAPACITY_FIELDS.filter((k) => b[k] !== undefined && b[k] !== null) : [];
            if (set.length > 0) {
                problems.push({
                    message: `Invalid value for field 'resource.backends[${i}]': ${set.join(", ")} set. A serverless NEG backend takes no balancing mode or capacity settings.`,
                    source: SERVERLESS_NEGS,
                });
            }
        });
    }
    if (props.sessionAffinity === "STRONG_COOKIE_AFFINITY" && !isRecord(props.strongSessionAffinityCookie)) {
        problems.push({
            message: `Invalid value for field 'resource.strongSessionAffinityCookie': unset. ${quote(`${bs}.strong_session_affinity_cookie`, /required/)}`,
            source: `${COMPUTE_PROTO} (BackendService.strong_session_affinity_cookie)`,
        });
    }
    const ttl = props.affinityCookieTtlSec;
    if (typeof ttl === "number" && (ttl < 0 || ttl > 1_209_600)) {
        problems.push({
            message: `Invalid value for field 'resource.affinityCookieTtlSec': '${ttl}'. ${quote(`${bs}.affinity_cookie_ttl_sec`, /maximum allowed value/)}`,
            source: `${COMPUTE_PROTO} (BackendService.affinity_cookie_ttl_sec)`,
        });
    }
    return problems;
}

/** A regional group's fixed surge or unavailability is spread over its zones: 0, or at least their count. */
export function regionalGroupRules(props: Props): Problem[] {
    const zones = isRecord(props) ? list(props.distributionPolicyZones).length : 0;
    const policy = isRecord(props.updatePolicy) ? props.updatePolicy : {};
    return (["maxSurgeFixed", "maxUnavailableFixed"] as const).flatMap((field) => {
        const value = policy[field];
        return zones > 1 && typeof value === "number" && value > 0 && value < zones
            ? [
                  {
                      message: `Invalid value for field 'resource.updatePolicy.${field}': '${value}'. For a regional managed instance group a fixed value must be 0 or at least the number of zones (${zones}).`,
                      source: MIG_SURGE,
                  },
              ]
            : [];
    });
}

const seconds = (v: unknown) => (typeof v === "string" && /^\d+(\.\d+)?s$/.test(v) ? Number(v.slice(0, -1)) : NaN);

export function uptimeCheckRules(props: Props): Problem[] {
    const problems: Problem[] = [];
    const u = "google.monitoring.v3.UptimeCheckConfig";
    if (props.period !== undefined && ![60, 300, 600, 900].includes(seconds(props.period))) {
        problems.push({
            message: `Invalid value for field 'period': ${JSON.stringify(props.period)}. ${quote(`${u}.period`, /supported values/)}`,
            source: `${UPTIME_PROTO} (UptimeCheckConfig.period)`,
        });
    }
    const timeout = seconds(props.timeout);
    if (!(timeout >= 1 && timeout <= 60)) {
        problems.push({
            message: `Invalid value for field 'timeout': ${JSON.stringify(props.timeout)}. ${quote(`${u}.timeout`, /between/)}`,
            source: `${UPTIME_PROTO} (UptimeCheckConfig.timeout)`,
        });
    }
    return problems;
}

/**
 * A condition's filter must name the metric type and the resource type; its denominator filter
 * only the metric type ("optionally may contain restrictions on resource type"): each field's
 * own comment in alert.proto.
 */
export function alertPolicyRules(props: Props): Problem[] {
    const threshold = "google.monitoring.v3.AlertPolicy.Condition.MetricThreshold";
    const rules = [
        { key: "filter", field: "filter", needs: [/\bmetric\.type\s*=/, /\bresource\.type\s*=/] },
        { key: "denominatorFilter", field: "denominator_filter", needs: [/\bmetric\.type\s*=/] },
    ];
    return rules.flatMap(({ key, field, needs }) =>
        valuesAt(props, `conditions[].conditionThreshold.${key}`)
            .filter(({ value }) => typeof value !== "string" || !needs.every((n) => n.test(value)))
            .map(({ at, value }) => ({
                message: `Field ${at} had an invalid value of ${JSON.stringify(value)}: ${quote(`${threshold}.${field}`, /must specify the metric type/)}`,
                source: `${ALERT_PROTO} (AlertPolicy.Condition.MetricThreshold.${field})`,
            })),
    );
}

/** Judged on the day the stand-in runs, as Google judges a create or redeploy. */
export function functionRules(props: Props, cloud: Cloud, project: string, today = new Date()): Problem[] {
    const build = isRecord(props.buildConfig) ? props.buildConfig : {};
    const problems: Problem[] = [];
    const runtime = build.runtime;
    if (typeof runtime === "string" && runtimeStage(runtime, today.toISOString().slice(0, 10)) === "decommissioned") {
        problems.push({
            message: `Invalid value for field 'buildConfig.runtime': '${runtime}'. The runtime is decommissioned: functions can no longer be created or updated on it.`,
            source: RUNTIMES,
        });
    }
    const service = isRecord(props.serviceConfig) ? props.serviceConfig : {};
    const account = typeof service.serviceAccountEmail === "string" ? service.serviceAccountEmail : undefined;
    const secrets = list(service.secretEnvironmentVariables).flatMap((s) =>
        isRecord(s) && typeof s.secret === "string" ? [s.secret] : [],
    );
    return [
        ...problems,
        ...secretAccessProblems(secrets, account, cloud, project, "serviceConfig.serviceAccountEmail"),
    ];
}

/** Cloud Run checks the secrets a revision references against its account when it creates the revision. */
export function cloudRunRules(props: Props, cloud: Cloud, project: string): Problem[] {
    const template = isRecord(props.template) ? props.template : {};
    const account = typeof template.serviceAccount === "string" ? template.serviceAccount : undefined;
    const secrets = [
        ...valuesAt(template, "containers[].envs[].valueSource.secretKeyRef.secret"),
        ...valuesAt(template, "volumes[].secret.secret"),
    ].flatMap(({ value }) => (typeof value === "string" ? [value] : []));
    return secretAccessProblems(secrets, account, cloud, project, "template.serviceAccount");
}

const secretName = (secret: string, project: string) =>
    secret.startsWith("projects/") ? secret : `projects/${project}/secrets/${secret}`;

function secretAccessProblems(
    secrets: string[],
    account: string | undefined,
    cloud: Cloud,
    project: string,
    field: string,
): Problem[] {
    // Unset, the revision runs as the Compute Engine default account, which nothing here grants.
    const member = `serviceAccount:${account ?? `${project}-compute@developer.gserviceaccount.com (the default compute account)`}`;
    const granted = (secret: string) =>
        cloud
            .records()
            .some(
                (r) =>
                    (r.type === "gcp:secretmanager/secretIamMember:SecretIamMember" &&
                        typeof r.props.secretId === "string" &&
                        secretName(r.props.secretId, project) === secretName(secret, project) &&
                        r.props.role === "roles/secretmanager.secretAccessor" &&
                        r.props.member === member) ||
                    (r.type === "gcp:projects/iAMMember:IAMMember" &&
                        r.props.role === "roles/secretmanager.secretAccessor" &&
                        r.props.member === member),
            );
    return [...new Set(secrets)]
        .filter((secret) => !granted(secret))
        .map((secret) => ({
            message: `Permission denied on secret: ${secretName(secret, project)} for Revision service account ${member.slice("serviceAccount:".length)} (${field}). The service account used must be granted the 'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level.`,
            source: RUN_SECRETS,
        }));
}

/** The header fields of a headerAction, wherever a URL map has one. */
const HEADER_ACTION_PATHS = [
    "headerAction",
    "defaultRouteAction.weightedBackendServices[].headerAction",
    "pathMatchers[].headerAction",
    "pathMatchers[].defaultRouteAction.weightedBackendServices[].headerAction",
    "pathMatchers[].pathRules[].routeAction.weightedBackendServices[].headerAction",
    "pathMatchers[].routeRules[].headerAction",
    "pathMatchers[].routeRules[].routeAction.weightedBackendServices[].headerAction",
];

export function urlMapHeaderRules(props: Props): Problem[] {
    const names = HEADER_ACTION_PATHS.flatMap((base) => [
        ...valuesAt(props, `${base}.requestHeadersToAdds[].headerName`),
        ...valuesAt(props, `${base}.responseHeadersToAdds[].headerName`),
        ...valuesAt(props, `${base}.requestHeadersToRemoves[]`),
        ...valuesAt(props, `${base}.responseHeadersToRemoves[]`),
    ]);
    return names.flatMap(({ at, value }) => {
        const name = String(value);
        const problem = /^(host|:authority)$/i.test(name)
            ? "is the request's authority, which a custom header cannot set or remove"
            : headerNameProblem(name);
        return problem
            ? [
                  {
                      message: `Invalid value for field '${at}': '${name}'. Header '${name}' ${problem}.`,
                      source: CUSTOM_HEADERS,
                  },
              ]
            : [];
    });
}
