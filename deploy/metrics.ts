import { MetricServiceClient } from "@google-cloud/monitoring";
import type { ClientOptions } from "google-gax";
import { errorText } from "../cli/kit";

/** Requests a load balancer served in a window, and how many of them were answered 5xx. */
export interface RequestCounts {
    readonly requests: number;
    readonly errors5xx: number;
}

export interface TimeWindow {
    readonly start: Date;
    readonly end: Date;
}

/**
 * Where the pipeline reads the HTTP 5xx rate. The real stack reads Cloud Monitoring; the local
 * stand-in counts what it served. Kept this small so the watch window does not care which.
 */
export interface MetricsSource {
    readonly description: string;
    requestCounts(window: TimeWindow): Promise<RequestCounts>;
    /** Throws one line when the source cannot be read at all (no credentials): checked before `up`. */
    checkCredentials?(): Promise<void>;
    /** Releases a client (a gRPC channel), when the source holds one. */
    close?(): Promise<void>;
}

const REQUEST_COUNT_METRIC = "loadbalancing.googleapis.com/https/request_count";

/**
 * The filter for one forwarding rule's requests. Metric, monitored resource `https_lb_rule` and
 * its `forwarding_rule_name` label, and the metric label `response_code_class` come from
 * https://cloud.google.com/monitoring/api/metrics_gcp (loadbalancing, `https/request_count`)
 * and https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring.
 */
export function requestCountFilter(forwardingRuleName: string): string {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(forwardingRuleName)) {
        // A name that is not a GCE resource name would break out of the filter's quotes.
        throw new Error(
            `forwarding rule name ${JSON.stringify(forwardingRuleName)}: expected a Compute Engine resource name (lower-case letters, digits, hyphens)`,
        );
    }
    return `metric.type="${REQUEST_COUNT_METRIC}" AND resource.type="https_lb_rule" AND resource.label.forwarding_rule_name="${forwardingRuleName}"`;
}

/** int64 values arrive as number, string or Long depending on the client's options. */
function asNumber(value: number | string | { toString(): string } | null | undefined): number {
    return value === null || value === undefined ? 0 : Number(typeof value === "number" ? value : value.toString());
}

/**
 * Cloud Monitoring through Google's client library: sums `request_count` over the window,
 * grouped by `response_code_class` (500 is the 5xx class). The alignment period is at least
 * 60 s because the API refuses shorter ones for this aggregation (inferred from the API's
 * `Aggregation.alignmentPeriod` docs: "at least 60 seconds"); points are summed, whatever their
 * number, so a window is counted once. LB metrics appear in Monitoring with a delay of a few
 * minutes (https://cloud.google.com/monitoring/api/metrics_gcp, "data is not visible for up to
 * ... seconds"), so a window read right after it ends may be short of its last minutes.
 */
export class CloudMonitoringSource implements MetricsSource {
    readonly description: string;
    private readonly client: MetricServiceClient;
    private credentials?: Promise<void>;

    constructor(
        private readonly options: { project: string; forwardingRuleName: string; clientOptions?: ClientOptions },
    ) {
        this.description = `Cloud Monitoring ${REQUEST_COUNT_METRIC} for forwarding rule ${options.forwardingRuleName} in project ${options.project}`;
        this.client = new MetricServiceClient(options.clientOptions);
    }

    /**
     * Finds the client's credentials (Application Default Credentials, or the client options'),
     * throwing one line when there are none. Asked before any call: without it, a client with no
     * credentials rejects a promise of its own that nobody awaits, and the process dies of an
     * unhandled rejection (measured with @google-cloud/monitoring 5.x and no credentials).
     */
    checkCredentials(): Promise<void> {
        if (this.options.clientOptions?.sslCreds) {
            // Channel credentials given outright: the client asks Google's auth for nothing.
            return Promise.resolve();
        }
        this.credentials ??= this.client.auth.getClient().then(
            () => undefined,
            (e: unknown) => {
                throw new Error(
                    `no Google credentials for Cloud Monitoring (${errorText(e).split("\n")[0]}); run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS`,
                );
            },
        );
        return this.credentials;
    }

    async requestCounts(window: TimeWindow): Promise<RequestCounts> {
        await this.checkCredentials();
        const startSec = Math.floor(window.start.getTime() / 1000);
        const endSec = Math.max(startSec + 1, Math.ceil(window.end.getTime() / 1000));
        const [series] = await this.client.listTimeSeries({
            name: `projects/${this.options.project}`,
            filter: requestCountFilter(this.options.forwardingRuleName),
            interval: { startTime: { seconds: startSec }, endTime: { seconds: endSec } },
            aggregation: {
                alignmentPeriod: { seconds: Math.max(60, endSec - startSec) },
                perSeriesAligner: "ALIGN_DELTA",
                crossSeriesReducer: "REDUCE_SUM",
                groupByFields: ["metric.label.response_code_class"],
            },
            view: "FULL",
        });
        let requests = 0;
        let errors5xx = 0;
        for (const s of series) {
            const total = (s.points ?? []).reduce(
                (sum, p) => sum + asNumber(p.value?.int64Value) + (p.value?.doubleValue ?? 0),
                0,
            );
            requests += total;
            if (String(s.metric?.labels?.response_code_class ?? "") === "500") {
                errors5xx += total;
            }
        }
        return { requests, errors5xx };
    }

    async close(): Promise<void> {
        await this.client.close().catch(() => undefined);
    }
}

/** The 5xx share of requests; undefined when there were none (no rate to compare). */
export function errorRate(counts: RequestCounts): number | undefined {
    return counts.requests > 0 ? counts.errors5xx / counts.requests : undefined;
}

/**
 * How much the 5xx rate rose, relative to the baseline (0.25 = 25 % higher). A rise from a zero
 * baseline is infinite when any 5xx appeared and 0 otherwise: the incident runbook's trigger is relative, and
 * there is nothing to be relative to.
 */
export function relativeIncrease(baseline: number, after: number): number {
    if (baseline === 0) {
        return after > 0 ? Number.POSITIVE_INFINITY : 0;
    }
    return (after - baseline) / baseline;
}
