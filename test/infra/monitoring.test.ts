import { strict as assert } from "assert";
import * as path from "path";
import { websocketUrlRegex } from "../../infra/monitoring";
import {
    loadStackConfig,
    named,
    ofType,
    ProgramRun,
    PROJECT_DIR,
    RecordedResource,
    runProgram,
    runStack,
    SECRET_PLACEHOLDER,
} from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";
const METRIC = "gcp:logging/metric:Metric";
const ALERT = "gcp:monitoring/alertPolicy:AlertPolicy";
const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const EXPECTED = {
    staging: { emails: ["chat-staging-alerts@example.com"], webhook: false, errors5xx: 0.05 },
    production: { emails: ["chat-oncall@example.com", "chat-platform@example.com"], webhook: true, errors5xx: 0.02 },
};

/** The Logging-query regex as JavaScript sees it (the filter string escapes backslashes). */
function regexOf(filter: string): RegExp {
    const quoted = /httpRequest\.requestUrl=~"((?:[^"\\]|\\.)*)"/.exec(filter);
    assert.ok(quoted, `no requestUrl regex in ${filter}`);
    return new RegExp(quoted[1].replace(/\\\\/g, "\\"));
}

for (const [stack, expected] of Object.entries(EXPECTED)) {
    describe(`infrastructure: monitoring of the ${stack} stack`, () => {
        let run: ProgramRun;
        const p = (r: RecordedResource) => r.inputs as Props;
        before(async () => {
            run = await runStack(stack);
        });

        it("creates a notification channel per email, and the paging webhook where configured", () => {
            const channels = ofType(run, CHANNEL);
            assert.deepEqual(
                channels.filter((c) => p(c).type === "email").map((c) => p(c).labels.email_address),
                expected.emails,
            );
            const webhooks = channels.filter((c) => p(c).type === "webhook_basicauth");
            assert.equal(webhooks.length, expected.webhook ? 1 : 0);
            if (expected.webhook) {
                assert.equal(p(webhooks[0]).labels.url, "https://paging.example.com/hooks/chat-production");
            }
        });

        it("counts WebSocket upgrades, failed upgrades and failed connections, and every request's backend timeouts, from this load balancer's request logs", () => {
            const urlMapName = String(run.outputs.urlMapName);
            const filter = (name: string) => String(p(named(run, METRIC, `chat-${name}`)).filter);
            const base = `resource.type="http_load_balancer" AND resource.labels.url_map_name="${urlMapName}" AND httpRequest.requestUrl=~`;
            for (const name of ["ws-upgrade-attempts", "ws-upgrade-failures", "ws-connection-failures"]) {
                assert.ok(filter(name).startsWith(base), filter(name));
            }
            assert.match(filter("ws-upgrade-failures"), / AND httpRequest\.status!=101$/);
            assert.match(filter("ws-connection-failures"), / AND httpRequest\.status>=500$/);
            // backend_timeout in its documented meaning only: any request whose backend timed out, not a WebSocket cut.
            assert.equal(
                filter("lb-timeout-errors"),
                `resource.type="http_load_balancer" AND resource.labels.url_map_name="${urlMapName}" AND jsonPayload.statusDetails="backend_timeout"`,
            );
            assert.doesNotMatch(String(p(named(run, METRIC, "chat-lb-timeout-errors")).description), /WebSocket|cut/i);
            assert.deepEqual(
                ofType(run, METRIC)
                    .map((m) => m.name)
                    .sort(),
                [
                    "chat-lb-timeout-errors",
                    "chat-ws-connection-failures",
                    "chat-ws-upgrade-attempts",
                    "chat-ws-upgrade-failures",
                ],
            );
            const regex = regexOf(filter("ws-upgrade-attempts"));
            for (const url of [
                "https://chat.example.com/ws",
                "https://chat.example.com/ws?token=1",
                "https://chat.example.com/ws/room/7",
                "http://chat.example.com/websocket",
                "https://chat.example.com/websocket/x",
            ]) {
                assert.match(url, regex);
            }
            for (const url of [
                "https://chat.example.com/wsx",
                "https://chat.example.com/api/ws",
                "https://chat.example.com/websockets",
            ]) {
                assert.doesNotMatch(url, regex);
            }
            for (const metric of ofType(run, METRIC)) {
                assert.deepEqual(p(metric).metricDescriptor, { metricKind: "DELTA", valueType: "INT64", unit: "1" });
            }
        });

        it("alerts on the 5xx ratio, handshake and connection failure ratios, and the rate of load balancer timeout errors, each over 5 minutes, to every channel, each naming its runbook step", () => {
            const channelIds = ofType(run, CHANNEL)
                .map((c) => c.id)
                .sort();
            const alert = (name: string) => p(named(run, ALERT, `chat-${name}`));
            const threshold = (name: string) => alert(name).conditions[0].conditionThreshold;
            assert.equal(threshold("alert-5xx").thresholdValue, expected.errors5xx);
            assert.match(
                threshold("alert-5xx").filter,
                /metric\.type="loadbalancing\.googleapis\.com\/https\/request_count" AND resource\.type="https_lb_rule" AND .* AND metric\.label\.response_code_class=500$/,
            );
            assert.doesNotMatch(threshold("alert-5xx").denominatorFilter, /response_code_class/);
            assert.equal(threshold("alert-ws-handshake").thresholdValue, 0.1);
            assert.equal(threshold("alert-ws-connection").thresholdValue, 0.05);
            const metricName = (name: string) => named(run, METRIC, `chat-${name}`).id.split("/").pop();
            assert.equal(
                threshold("alert-ws-handshake").filter,
                `metric.type="logging.googleapis.com/user/${metricName("ws-upgrade-failures")}"`,
            );
            assert.equal(
                threshold("alert-ws-handshake").denominatorFilter,
                `metric.type="logging.googleapis.com/user/${metricName("ws-upgrade-attempts")}"`,
            );
            for (const name of ["alert-5xx", "alert-ws-handshake", "alert-ws-connection", "alert-lb-timeouts"]) {
                assert.equal(threshold(name).duration, "300s");
                assert.equal(threshold(name).comparison, "COMPARISON_GT");
            }
            assert.equal(alert("alert-lb-timeouts").displayName, "Load balancer timeout errors");
            // A rate, not any single event: 5 a minute is 5/60 a second under ALIGN_RATE.
            assert.equal(threshold("alert-lb-timeouts").thresholdValue, 5 / 60);
            assert.equal(threshold("alert-lb-timeouts").aggregations[0].perSeriesAligner, "ALIGN_RATE");
            assert.equal(
                threshold("alert-lb-timeouts").filter,
                `metric.type="logging.googleapis.com/user/${metricName("lb-timeout-errors")}"`,
            );
            assert.doesNotMatch(alert("alert-lb-timeouts").documentation.content, /WebSocket|cut/i);
            for (const [name, step] of [
                ["alert-5xx", 1],
                ["alert-ws-handshake", 2],
                ["alert-ws-connection", 3],
                ["alert-lb-timeouts", 4],
            ] as const) {
                assert.deepEqual([...alert(name).notificationChannels].sort(), channelIds);
                assert.match(
                    alert(name).documentation.content,
                    new RegExp(`Runbook: docs/configuration\\.md#runbook, step ${step} `),
                );
            }
        });

        it("draws a dashboard of those series", () => {
            const dashboard = JSON.parse(p(ofType(run, DASHBOARD)[0]).dashboardJson);
            const tiles = dashboard.mosaicLayout.tiles as Props[];
            assert.deepEqual(
                tiles.map((t) => t.widget.title),
                [
                    "Requests by response class",
                    "HTTP 5xx",
                    "WebSocket upgrade attempts",
                    "WebSocket handshake failures",
                    "WebSocket connection failures",
                    "Load balancer timeout errors",
                ],
            );
            for (const tile of tiles) {
                assert.match(
                    tile.widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter,
                    /^metric\.type="/,
                );
            }
        });
    });
}

describe("infrastructure: monitoring secrets", () => {
    it("keeps the paging token a Pulumi secret all the way into the channel's inputs", async () => {
        const stack = loadStackConfig({
            projectDir: PROJECT_DIR,
            stack: "paging",
            stackFile: path.join(__dirname, "fixtures", "Pulumi.paging.yaml"),
        });
        assert.deepEqual(stack.secretKeys, ["websocket-lb:pagingWebhookToken"]);
        assert.match(
            stack.notices[0],
            /secure values cannot be decrypted offline; websocket-lb:pagingWebhookToken was replaced/,
        );
        const run = await runProgram(stack);
        const [webhook] = ofType(run, CHANNEL).filter((c) => (c.inputs as Props).type === "webhook_basicauth");
        const password = (webhook.inputs as Props).sensitiveLabels.password;
        assert.equal(password[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
        assert.equal(password.value, SECRET_PLACEHOLDER);
    });

    it("builds a regex that matches exact paths with queries and wildcard paths by prefix", () => {
        const regex = new RegExp(websocketUrlRegex(["/ws", "/a.b/*"]).replace(/\\\\/g, "\\"));
        assert.match("https://h/ws?x", regex);
        assert.match("https://h/a.b/c", regex);
        assert.doesNotMatch("https://h/aXb/c", regex);
    });
});
