import * as pulumi from "@pulumi/pulumi";
import * as logging from "@pulumi/gcp/logging";
import * as monitoring from "@pulumi/gcp/monitoring";
import { AlertKey, createRoutedChannels, RoutedChannels } from "./alert-routes";
import { LoadBalancerSettings, MonitoringSettings } from "./settings";

export interface Monitoring {
    readonly channels: monitoring.NotificationChannel[];
    readonly metrics: Record<
        "upgradeAttempts" | "upgradeFailures" | "connectionFailures" | "timeoutErrors",
        logging.Metric
    >;
    readonly alerts: Record<AlertKey, monitoring.AlertPolicy>;
    readonly dashboard: monitoring.Dashboard;
    /** Channels per team when alertRoutes is set (infra/alert-routes.ts). */
    readonly routes?: RoutedChannels;
}

/** RE2 for the request URLs of the WebSocket paths: `/ws` exactly (query allowed), `/ws/*` by prefix. */
export function websocketUrlRegex(paths: readonly string[]): string {
    const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\\\$&");
    const alternatives = paths.map((p) => (p.endsWith("/*") ? `${escape(p.slice(0, -1))}` : `${escape(p)}([?]|$)`));
    return `^https?://[^/]+(${alternatives.join("|")})`;
}

export const RUNBOOK = "docs/configuration.md#runbook";

type Metrics = Monitoring["metrics"];
type Parent = { parent: pulumi.Resource };

/**
 * Alerting for the load balancer: notification channels, log-based metrics, alert policies and a
 * dashboard, each built by its own function below.
 */
export function createMonitoring(
    name: string,
    settings: LoadBalancerSettings,
    urlMapName: pulumi.Output<string>,
    parent: pulumi.Resource,
): Monitoring {
    const opts = { parent };
    const m = settings.monitoring;
    // With alertRoutes, each alert pages its teams' channels; without, every alert goes to every channel.
    const routed = Object.keys(m.alertRoutes).length > 0;
    const routes = routed
        ? createRoutedChannels(name, m.alertRoutes, m, opts, { chatChecksRun: settings.syntheticMonitor.enabled })
        : undefined;
    const channels = routes ? routes.channels : createChannels(name, m, opts);
    const channelIdsFor = (alert: AlertKey) => (routes ? routes.channelIdsFor(alert) : channels.map((c) => c.id));
    const metrics = createLogMetrics(name, settings.websocketPaths, urlMapName, opts);
    const alerts = createAlerts(name, m, metrics, channelIdsFor, urlMapName, opts);
    const dashboard = createDashboard(name, metrics, urlMapName, opts);
    return { channels, metrics, alerts, dashboard, routes };
}

/** One email channel per address, and the basic-auth paging webhook when one is configured. */
function createChannels(
    name: string,
    monitoringSettings: MonitoringSettings,
    opts: Parent,
): monitoring.NotificationChannel[] {
    const channels = monitoringSettings.alertEmails.map(
        (email, i) =>
            new monitoring.NotificationChannel(
                `${name}-email-${i}`,
                { displayName: `WebSocket LB alerts: ${email}`, type: "email", labels: { email_address: email } },
                opts,
            ),
    );
    if (monitoringSettings.pagingWebhookUrl) {
        channels.push(
            new monitoring.NotificationChannel(
                `${name}-paging`,
                {
                    displayName: "WebSocket LB paging webhook",
                    type: "webhook_basicauth",
                    labels: { url: monitoringSettings.pagingWebhookUrl, username: "websocket-lb" },
                    sensitiveLabels: monitoringSettings.pagingWebhookToken
                        ? { password: monitoringSettings.pagingWebhookToken }
                        : undefined,
                },
                opts,
            ),
        );
    }
    return channels;
}

/**
 * Log-based metrics over the load balancer's request logs (every backend logs at sample rate
 * 1.0): an upgrade is a request on a WebSocket path, it failed when the answer was not 101, the
 * connection failed when the answer was a 5xx. The timeout-error count reads statusDetails
 * "backend_timeout" over every request of the map, in its documented meaning only: the backend
 * timed out while generating a response. No Google doc says it also marks a WebSocket closed at
 * the end of its lifetime, so it is not counted as one.
 */
function createLogMetrics(
    name: string,
    websocketPaths: readonly string[],
    urlMapName: pulumi.Output<string>,
    opts: Parent,
): Metrics {
    const allRequests = pulumi.interpolate`resource.type="http_load_balancer" AND resource.labels.url_map_name="${urlMapName}"`;
    const requests = pulumi.interpolate`${allRequests} AND httpRequest.requestUrl=~"${websocketUrlRegex(websocketPaths)}"`;
    const counter = (suffix: string, description: string, filter: pulumi.Input<string>) =>
        new logging.Metric(
            `${name}-${suffix}`,
            { description, filter, metricDescriptor: { metricKind: "DELTA", valueType: "INT64", unit: "1" } },
            opts,
        );
    return {
        upgradeAttempts: counter("ws-upgrade-attempts", "Requests on WebSocket paths (upgrade attempts)", requests),
        upgradeFailures: counter(
            "ws-upgrade-failures",
            "Requests on WebSocket paths not answered with 101",
            pulumi.interpolate`${requests} AND httpRequest.status!=101`,
        ),
        connectionFailures: counter(
            "ws-connection-failures",
            "Requests on WebSocket paths answered with a 5xx (the load balancer could not reach or upgrade the backend)",
            pulumi.interpolate`${requests} AND httpRequest.status>=500`,
        ),
        timeoutErrors: counter(
            "lb-timeout-errors",
            "Requests whose backend timed out while generating a response (statusDetails backend_timeout)",
            pulumi.interpolate`${allRequests} AND jsonPayload.statusDetails="backend_timeout"`,
        ),
    };
}

/**
 * The monitored resource type the load balancer's request logs are written against
 * (https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring, "Viewing logs":
 * resource type http_load_balancer), which a log-based metric's series carry (inferred from
 * https://cloud.google.com/logging/docs/logs-based-metrics, where a metric's series are labelled
 * with the monitored resource of the entries it counts).
 */
const LB_LOG_RESOURCE_TYPE = "http_load_balancer";

/**
 * A user metric's filter, with the resource type Monitoring requires: "The filter must specify
 * the metric type and the resource type" (google/monitoring/v3/alert.proto in
 * @google-cloud/monitoring, AlertPolicy.Condition.MetricThreshold.filter).
 */
const userMetric = (metric: logging.Metric) =>
    pulumi.interpolate`metric.type="logging.googleapis.com/user/${metric.name}" AND resource.type="${LB_LOG_RESOURCE_TYPE}"`;
const PER_MINUTE = [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_SUM" }];
const RATE_PER_MINUTE = [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" }];

/** The load balancer's own request counter for this URL map. */
function lbRequestsFilter(urlMapName: pulumi.Output<string>): pulumi.Output<string> {
    return pulumi.interpolate`metric.type="loadbalancing.googleapis.com/https/request_count" AND resource.type="https_lb_rule" AND resource.label.url_map_name="${urlMapName}"`;
}

type ChannelIdsFor = (alert: keyof Monitoring["alerts"]) => pulumi.Output<string>[];

interface RatioAlertSpec {
    readonly alert: keyof Monitoring["alerts"];
    readonly suffix: string;
    readonly displayName: string;
    readonly numerator: pulumi.Input<string>;
    readonly denominator: pulumi.Input<string>;
    readonly percent: number;
    readonly aggregations: typeof PER_MINUTE;
    readonly runbookStep: string;
    /** The log-based metrics the filters read. */
    readonly uses?: logging.Metric[];
}

/** An alert when numerator over denominator stays above a percentage for 5 minutes. */
function createRatioAlert(
    name: string,
    spec: RatioAlertSpec,
    channelIdsFor: ChannelIdsFor,
    opts: Parent,
): monitoring.AlertPolicy {
    const { displayName, percent, aggregations } = spec;
    return new monitoring.AlertPolicy(
        `${name}-${spec.suffix}`,
        {
            displayName,
            combiner: "OR",
            severity: "ERROR",
            conditions: [
                {
                    displayName: `${displayName} above ${percent}% for 5 minutes`,
                    conditionThreshold: {
                        filter: spec.numerator,
                        denominatorFilter: spec.denominator,
                        aggregations,
                        denominatorAggregations: aggregations,
                        comparison: "COMPARISON_GT",
                        thresholdValue: percent / 100,
                        duration: "300s",
                    },
                },
            ],
            notificationChannels: channelIdsFor(spec.alert),
            documentation: {
                mimeType: "text/markdown",
                content: `${displayName} is above ${percent}%. Runbook: ${RUNBOOK}, ${spec.runbookStep}.`,
            },
        },
        // A new log-based metric can take minutes before alert policies accept it (terraform-provider-google #11102).
        { ...opts, dependsOn: spec.uses ?? [] },
    );
}

/** A rate alert on requests whose backend timed out. */
function createTimeoutAlert(
    name: string,
    perMinute: number,
    metrics: Metrics,
    channelIdsFor: ChannelIdsFor,
    opts: Parent,
): monitoring.AlertPolicy {
    return new monitoring.AlertPolicy(
        `${name}-alert-lb-timeouts`,
        {
            displayName: "Load balancer backend timeouts (HTTP requests)",
            combiner: "OR",
            severity: "WARNING",
            conditions: [
                {
                    displayName: `requests timed out at the backend above ${perMinute} per minute for 5 minutes`,
                    conditionThreshold: {
                        filter: userMetric(metrics.timeoutErrors),
                        // ALIGN_RATE yields per second; the setting is per minute.
                        aggregations: RATE_PER_MINUTE,
                        comparison: "COMPARISON_GT",
                        thresholdValue: perMinute / 60,
                        duration: "300s",
                    },
                },
            ],
            notificationChannels: channelIdsFor("timeoutErrors"),
            documentation: {
                mimeType: "text/markdown",
                content:
                    `More than ${perMinute} requests a minute end with statusDetails backend_timeout: ` +
                    `the backend did not answer within its route's or backend service's timeout (a 504 to the client): a slow or undersized backend. ` +
                    `It does not count WebSockets closed at the end of their lifetime (no Google doc says those are marked backend_timeout). ` +
                    `Runbook: ${RUNBOOK}, step 4 (timeout errors: find the slow backend and route, then its capacity).`,
            },
        },
        { ...opts, dependsOn: [metrics.timeoutErrors] },
    );
}

/** Ratio alerts for 5xx, handshake and connection failures, and a rate alert on load balancer timeout errors. */
function createAlerts(
    name: string,
    monitoringSettings: MonitoringSettings,
    metrics: Metrics,
    channelIdsFor: ChannelIdsFor,
    urlMapName: pulumi.Output<string>,
    opts: Parent,
): Monitoring["alerts"] {
    const ratioAlert = (spec: RatioAlertSpec) => createRatioAlert(name, spec, channelIdsFor, opts);
    const lbRequests = lbRequestsFilter(urlMapName);
    return {
        errors5xx: ratioAlert({
            alert: "errors5xx",
            suffix: "alert-5xx",
            displayName: "HTTP 5xx ratio",
            numerator: pulumi.interpolate`${lbRequests} AND metric.label.response_code_class=500`,
            denominator: lbRequests,
            percent: monitoringSettings.alert5xxPercent,
            aggregations: RATE_PER_MINUTE,
            runbookStep: "step 1 (5xx: check backend health, then roll back)",
        }),
        handshakeFailures: ratioAlert({
            alert: "handshakeFailures",
            suffix: "alert-ws-handshake",
            displayName: "WebSocket handshake failure ratio",
            numerator: userMetric(metrics.upgradeFailures),
            denominator: userMetric(metrics.upgradeAttempts),
            percent: monitoringSettings.alertHandshakeFailurePercent,
            aggregations: PER_MINUTE,
            runbookStep: "step 2 (handshake failures: validate with ws-validate, then roll back)",
            uses: [metrics.upgradeFailures, metrics.upgradeAttempts],
        }),
        connectionFailures: ratioAlert({
            alert: "connectionFailures",
            suffix: "alert-ws-connection",
            displayName: "WebSocket connection failure ratio",
            numerator: userMetric(metrics.connectionFailures),
            denominator: userMetric(metrics.upgradeAttempts),
            percent: monitoringSettings.alertConnectionFailurePercent,
            aggregations: PER_MINUTE,
            runbookStep: "step 3 (connection failures: check the backend group and firewall)",
            uses: [metrics.connectionFailures, metrics.upgradeAttempts],
        }),
        timeoutErrors: createTimeoutAlert(
            name,
            monitoringSettings.alertTimeoutErrorsPerMinute,
            metrics,
            channelIdsFor,
            opts,
        ),
    };
}

/** A dashboard of the load balancer's requests and the WebSocket metrics, two charts a row. */
function createDashboard(
    name: string,
    metrics: Metrics,
    urlMapName: pulumi.Output<string>,
    opts: Parent,
): monitoring.Dashboard {
    const lbRequests = lbRequestsFilter(urlMapName);
    const charts: Array<{ title: string; filter: pulumi.Output<string>; aligner: string }> = [
        { title: "Requests by response class", filter: lbRequests, aligner: "ALIGN_RATE" },
        {
            title: "HTTP 5xx",
            filter: pulumi.interpolate`${lbRequests} AND metric.label.response_code_class=500`,
            aligner: "ALIGN_RATE",
        },
        { title: "WebSocket upgrade attempts", filter: userMetric(metrics.upgradeAttempts), aligner: "ALIGN_DELTA" },
        { title: "WebSocket handshake failures", filter: userMetric(metrics.upgradeFailures), aligner: "ALIGN_DELTA" },
        {
            title: "WebSocket connection failures",
            filter: userMetric(metrics.connectionFailures),
            aligner: "ALIGN_DELTA",
        },
        { title: "Load balancer timeout errors", filter: userMetric(metrics.timeoutErrors), aligner: "ALIGN_DELTA" },
    ];
    const dashboardJson = pulumi.all(charts.map((c) => c.filter)).apply((filters) =>
        JSON.stringify({
            displayName: "WebSocket load balancer",
            mosaicLayout: {
                columns: 12,
                tiles: charts.map((c, i) => ({
                    xPos: (i % 2) * 6,
                    yPos: Math.floor(i / 2) * 4,
                    width: 6,
                    height: 4,
                    widget: {
                        title: c.title,
                        xyChart: {
                            dataSets: [
                                {
                                    plotType: "LINE",
                                    timeSeriesQuery: {
                                        timeSeriesFilter: {
                                            filter: filters[i],
                                            aggregation: {
                                                alignmentPeriod: "60s",
                                                perSeriesAligner: c.aligner,
                                                crossSeriesReducer: "REDUCE_SUM",
                                            },
                                        },
                                    },
                                },
                            ],
                        },
                    },
                })),
            },
        }),
    );
    return new monitoring.Dashboard(`${name}-dashboard`, { dashboardJson }, opts);
}
