import { strict as assert } from "assert";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { CloudMonitoringSource, errorRate, relativeIncrease, requestCountFilter } from "../../deploy/metrics";

// The real @google-cloud/monitoring client against a local gRPC server built from the protos the
// package ships: the request it sends is the one Google's server would get.
const PROTOS = path.resolve(path.dirname(require.resolve("@google-cloud/monitoring")), "..", "..", "protos");
// The common protos (google/api, google/protobuf) the monitoring protos import ship with google-gax.
const GAX_PROTOS = path.resolve(path.dirname(require.resolve("google-gax")), "..", "protos");

interface ListRequest {
    name: string;
    filter: string;
    interval: { startTime: { seconds: string }; endTime: { seconds: string } };
    aggregation: {
        alignmentPeriod: { seconds: string };
        perSeriesAligner: string;
        crossSeriesReducer: string;
        groupByFields: string[];
    };
}

type ServiceDefinition = grpc.ServiceDefinition;

async function startMonitoringServer(
    respond: (request: ListRequest) => object[],
): Promise<{ port: number; requests: ListRequest[]; stop: () => Promise<void> }> {
    const definition = protoLoader.loadSync("google/monitoring/v3/metric_service.proto", {
        includeDirs: [PROTOS, GAX_PROTOS],
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
        google: { monitoring: { v3: { MetricService: { service: ServiceDefinition } } } };
    };
    const requests: ListRequest[] = [];
    const server = new grpc.Server();
    server.addService(loaded.google.monitoring.v3.MetricService.service, {
        listTimeSeries: (call: grpc.ServerUnaryCall<ListRequest, object>, callback: grpc.sendUnaryData<object>) => {
            requests.push(call.request);
            callback(null, { timeSeries: respond(call.request), nextPageToken: "" });
        },
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) =>
            err ? reject(err) : resolve(bound),
        ),
    );
    return { port, requests, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

const series = (responseCodeClass: number, ...values: number[]) => ({
    metric: {
        type: "loadbalancing.googleapis.com/https/request_count",
        labels: { response_code_class: String(responseCodeClass) },
    },
    resource: { type: "https_lb_rule", labels: { forwarding_rule_name: "chat-https" } },
    metricKind: "DELTA",
    valueType: "INT64",
    points: values.map((v, i) => ({
        interval: { endTime: { seconds: 1000 + i * 60 } },
        value: { int64Value: String(v) },
    })),
});

describe("deploy: the 5xx rate from Cloud Monitoring (real client, local gRPC server)", function () {
    this.timeout(30_000);

    it("asks ListTimeSeries for this forwarding rule's request_count by response_code_class, and sums the 5xx share", async () => {
        const server = await startMonitoringServer(() => [series(200, 700, 150), series(400, 50), series(500, 80, 20)]);
        const source = new CloudMonitoringSource({
            project: "chat-staging",
            forwardingRuleName: "chat-https",
            // universeDomain given: the auth library would otherwise look for a GCE metadata server.
            clientOptions: {
                apiEndpoint: "127.0.0.1",
                port: server.port,
                sslCreds: grpc.credentials.createInsecure(),
                projectId: "chat-staging",
                universeDomain: "googleapis.com",
            },
        });
        try {
            const window = { start: new Date("2026-01-01T10:00:00Z"), end: new Date("2026-01-01T10:10:00Z") };
            const counts = await source.requestCounts(window);
            assert.deepEqual(counts, { requests: 1000, errors5xx: 100 });
            assert.equal(errorRate(counts), 0.1);
            const [request] = server.requests;
            assert.equal(request.name, "projects/chat-staging");
            assert.equal(request.filter, requestCountFilter("chat-https"));
            assert.match(request.filter, /resource\.label\.forwarding_rule_name="chat-https"/);
            assert.equal(request.interval.startTime.seconds, String(window.start.getTime() / 1000));
            assert.equal(request.interval.endTime.seconds, String(window.end.getTime() / 1000));
            assert.equal(request.aggregation.alignmentPeriod.seconds, "600");
            assert.equal(request.aggregation.perSeriesAligner, "ALIGN_DELTA");
            assert.equal(request.aggregation.crossSeriesReducer, "REDUCE_SUM");
            assert.deepEqual(request.aggregation.groupByFields, ["metric.label.response_code_class"]);
        } finally {
            await source.close();
            await server.stop();
        }
    });

    it("refuses a forwarding rule name that could break out of the filter", () => {
        assert.throws(
            () => requestCountFilter('x" OR metric.type="y'),
            /forwarding rule name .*: expected a Compute Engine resource name/,
        );
    });

    it("measures the rise relative to the baseline; from zero any 5xx is an infinite rise", () => {
        assert.equal(relativeIncrease(0.04, 0.05).toFixed(2), "0.25");
        assert.equal(relativeIncrease(0, 0), 0);
        assert.equal(relativeIncrease(0, 0.01), Number.POSITIVE_INFINITY);
        assert.equal(errorRate({ requests: 0, errors5xx: 0 }), undefined);
    });
});
