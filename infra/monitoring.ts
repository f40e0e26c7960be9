import * as pulumi from "@pulumi/pulumi";
import * as logging from "@pulumi/gcp/logging";
import * as monitoring from "@pulumi/gcp/monitoring";
import { LoadBalancerSettings } from "./config";

export interface Monitoring {
    readonly channels: monitoring.NotificationChannel[];
    readonly metrics: Record<"upgradeAttempts" | "upgradeFailures" | "connectionFailures" | "backendTimeoutCuts", logging.Metric>;
    readonly alerts: Record<"errors5xx" | "handshakeFailures" | "connectionFailures" | "backendTimeoutCuts", monitoring.AlertPolicy>;
    readonly dashboard: monitoring.Dashboard;
}

/** RE2 for the request URLs of the WebSocket paths: `/ws` exactly (query allowed), `/ws/*` by prefix. */
export function websocketUrlRegex(paths: readonly string[]): string {
    const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\\\$&");
    const alternatives = paths.map((p) => (p.endsWith("/*") ? `${escape(p.slice(0, -1))}` : `${escape(p)}([?]|$)`));
    return `^https?://[^/]+(${alternatives.join("|")})`;
}

export const RUNBOOK = "README.md#runbook";

/**
 * Alerting for the load balancer. Log-based metrics read the load balancer's request logs (every
 * backend logs at sample rate 1.0): an upgrade is a request on a WebSocket path, it failed when the
 * answer was not 101, the connection failed when the answer was a 5xx, and a cut at the backend
 * timeout carries statusDetails "backend_timeout" (gcp-websocket-facts, Monitoring signals).
 */
export function createMonitoring(
    name: string,
    settings: LoadBalancerSettings,
    urlMapName: pulumi.Output<string>,
    parent: pulumi.Resource,
): Monitoring {
    const monitoringSettings = settings.monitoring;
    const channels = monitoringSettings.alertEmails.map(
        (email, i) =>
            new monitoring.NotificationChannel(
                `${name}-email-${i}`,
                { displayName: `WebSocket LB alerts: ${email}`, type: "email", labels: { email_address: email } },
                { parent },
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
                    sensitiveLabels: monitoringSettings.pagingWebhookToken ? { password: monitoringSettings.pagingWebhookToken } : undefined,
                },
                { parent },
            ),
        );
    }

    const requests = pulumi.interpolate`resource.type="http_load_balancer" AND resource.labels.url_map_name="${urlMapName}" AND httpRequest.requestUrl=~"${websocketUrlRegex(settings.websocketPaths)}"`;
    const counter = (suffix: string, description: string, filter: pulumi.Input<string>) =>
        new logging.Metric(
            `${name}-${suffix}`,
            { description, filter, metricDescriptor: { metricKind: "DELTA", valueType: "INT64", unit: "1" } },
            { parent },
        );
    const metrics = {
        upgradeAttempts: counter("ws-upgrade-attempts", "Requests on WebSocket paths (upgrade attempts)", requests),
        upgradeFailures: counter("ws-upgrade-failures", "Requests on WebSocket paths not answered with 101", pulumi.interpolate`${requests} AND httpRequest.status!=101`),
        connectionFailures: counter("ws-connection-failures", "Requests on WebSocket paths answered with a 5xx (the load balancer could not reach or upgrade the backend)", pulumi.interpolate`${requests} AND httpRequest.status>=500`),
        backendTimeoutCuts: counter("ws-backend-timeout-cuts", "WebSocket connections cut at the backend service timeout", pulumi.interpolate`${requests} AND jsonPayload.statusDetails="backend_timeout"`),
    };
    const userMetric = (metric: logging.Metric) => pulumi.interpolate`metric.type="logging.googleapis.com/user/${metric.name}"`;
    const perMinute = [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_SUM" }];
    const channelIds = channels.map((c) => c.id);

    const ratioAlert = (
        suffix: string,
        displayName: string,
        numerator: pulumi.Input<string>,
        denominator: pulumi.Input<string>,
        percent: number,
        aggregations: typeof perMinute,
        runbookStep: string,
    ) =>
        new monitoring.AlertPolicy(
            `${name}-${suffix}`,
            {
                displayName,
                combiner: "OR",
                severity: "ERROR",
                conditions: [
                    {
                        displayName: `${displayName} above ${percent}% for 5 minutes`,
                        conditionThreshold: {
                            filter: numerator,
                            denominatorFilter: denominator,
                            aggregations,
                            denominatorAggregations: aggregations,
                            comparison: "COMPARISON_GT",
                            thresholdValue: percent / 100,
                            duration: "300s",
                        },
                    },
                ],
                notificationChannels: channelIds,
                documentation: { mimeType: "text/markdown", content: `${displayName} is above ${percent}%. Runbook: ${RUNBOOK}, ${runbookStep}.` },
            },
            { parent },
        );

    const lbRequests = pulumi.interpolate`metric.type="loadbalancing.googleapis.com/https/request_count" AND resource.type="https_lb_rule" AND resource.label.url_map_name="${urlMapName}"`;
    const ratePerMinute = [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" }];
    const alerts = {
        errors5xx: ratioAlert(
            "alert-5xx",
            "HTTP 5xx ratio",
            pulumi.interpolate`${lbRequests} AND metric.label.response_code_class=500`,
            lbRequests,
            monitoringSettings.alert5xxPercent,
            ratePerMinute,
            "step 1 (5xx: check backend health, then roll back)",
        ),
        handshakeFailures: ratioAlert(
            "alert-ws-handshake",
            "WebSocket handshake failure ratio",
            userMetric(metrics.upgradeFailures),
            userMetric(metrics.upgradeAttempts),
            monitoringSettings.alertHandshakeFailurePercent,
            perMinute,
            "step 2 (handshake failures: validate with ws-validate, then roll back)",
        ),
        connectionFailures: ratioAlert(
            "alert-ws-connection",
            "WebSocket connection failure ratio",
            userMetric(metrics.connectionFailures),
            userMetric(metrics.upgradeAttempts),
            monitoringSettings.alertConnectionFailurePercent,
            perMinute,
            "step 3 (connection failures: check the backend group and firewall)",
        ),
        backendTimeoutCuts: new monitoring.AlertPolicy(
            `${name}-alert-ws-cut`,
            {
                displayName: "WebSocket cut at the backend timeout",
                combiner: "OR",
                severity: "WARNING",
                conditions: [
                    {
                        displayName: "any WebSocket connection cut at the backend service timeout",
                        conditionThreshold: {
                            filter: userMetric(metrics.backendTimeoutCuts),
                            aggregations: perMinute,
                            comparison: "COMPARISON_GT",
                            thresholdValue: 0,
                            duration: "0s",
                        },
                    },
                ],
                notificationChannels: channelIds,
                documentation: {
                    mimeType: "text/markdown",
                    content: `A WebSocket was cut at the backend timeout (statusDetails backend_timeout). Runbook: ${RUNBOOK}, step 4 (cuts: check timeoutSec and routeAction.timeout with npm run preview:offline).`,
                },
            },
            { parent },
        ),
    };

    const chart = (title: string, filter: pulumi.Output<string>, aligner: string) => ({
        width: 6,
        height: 4,
        widget: { title, xyChart: { dataSets: [{ plotType: "LINE", timeSeriesQuery: { timeSeriesFilter: { filter, aggregation: { alignmentPeriod: "60s", perSeriesAligner: aligner, crossSeriesReducer: "REDUCE_SUM" } } } }] } },
    });
    const tiles = [
        chart("Requests by response class", lbRequests, "ALIGN_RATE"),
        chart("HTTP 5xx", pulumi.interpolate`${lbRequests} AND metric.label.response_code_class=500`, "ALIGN_RATE"),
        chart("WebSocket upgrade attempts", userMetric(metrics.upgradeAttempts), "ALIGN_DELTA"),
        chart("WebSocket handshake failures", userMetric(metrics.upgradeFailures), "ALIGN_DELTA"),
        chart("WebSocket connection failures", userMetric(metrics.connectionFailures), "ALIGN_DELTA"),
        chart("WebSocket cuts at the backend timeout", userMetric(metrics.backendTimeoutCuts), "ALIGN_DELTA"),
    ];
    const dashboard = new monitoring.Dashboard(
        `${name}-dashboard`,
        {
            dashboardJson: pulumi.all(tiles.map((t) => t.widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter)).apply((filters) =>
                JSON.stringify({
                    displayName: "WebSocket load balancer",
                    mosaicLayout: {
                        columns: 12,
                        tiles: tiles.map((t, i) => ({
                            xPos: (i % 2) * 6,
                            yPos: Math.floor(i / 2) * 4,
                            width: t.width,
                            height: t.height,
                            widget: {
                                title: t.widget.title,
                                xyChart: { dataSets: [{ plotType: "LINE", timeSeriesQuery: { timeSeriesFilter: { ...t.widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter, filter: filters[i] } } }] },
                            },
                        })),
                    },
                }),
            ),
        },
        { parent },
    );
    return { channels, metrics, alerts, dashboard };
}
