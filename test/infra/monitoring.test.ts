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

/** The channels each alert pages, by channel display name: staging has no routes, so every alert pages every channel. */
const STAGING_CHANNELS = ["WebSocket LB alerts: chat-staging-alerts@example.com"];
const PRODUCTION_TEAMS = {
    operations: ["WebSocket LB operations: PagerDuty", "WebSocket LB operations: chat-oncall@example.com"],
    infrastructure: [
        "WebSocket LB infrastructure: chat-platform@example.com",
        "WebSocket LB infrastructure: paging webhook",
    ],
    business: ["WebSocket LB business: Pub/Sub business-alerts", "WebSocket LB business: chat-business@example.com"],
};

const EXPECTED = {
    staging: {
        errors5xx: 0.05,
        pages: {
            "alert-5xx": STAGING_CHANNELS,
            "alert-ws-handshake": STAGING_CHANNELS,
            "alert-ws-connection": STAGING_CHANNELS,
            "alert-lb-timeouts": STAGING_CHANNELS,
            "alert-chat-degradation": STAGING_CHANNELS,
        },
    },
    production: {
        errors5xx: 0.02,
        // The runbook's paging: operations for 5xx, handshakes and connections; infrastructure for
        // timeouts; business for chat degradation.
        pages: {
            "alert-5xx": PRODUCTION_TEAMS.operations,
            "alert-ws-handshake": PRODUCTION_TEAMS.operations,
            "alert-ws-connection": PRODUCTION_TEAMS.operations,
            "alert-lb-timeouts": PRODUCTION_TEAMS.infrastructure,
            "alert-chat-degradation": PRODUCTION_TEAMS.business,
        },
    },
};
const LB_METRICS = [
    "chat-lb-timeout-errors",
    "chat-ws-connection-failures",
    "chat-ws-upgrade-attempts",
    "chat-ws-upgrade-failures",
];

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

        it("creates the channels the stack's routes name, or one per email without routes", () => {
            const names = ofType(run, CHANNEL)
                .map((c) => String(p(c).displayName))
                .sort();
            const all = [...new Set(Object.values(expected.pages).flat())].sort();
            assert.deepEqual(names, all);
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
                [...LB_METRICS, "chat-chat-synthetic-failures"].sort(),
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

        it("alerts on the 5xx ratio, handshake and connection failure ratios, and the rate of load balancer timeout errors, each over 5 minutes, to its team's channels, each naming its runbook step", () => {
            const byId = new Map(ofType(run, CHANNEL).map((c) => [c.id, String(p(c).displayName)]));
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
            // Monitoring: "The filter must specify the metric type and the resource type".
            const userMetric = (name: string) =>
                `metric.type="logging.googleapis.com/user/${metricName(name)}" AND resource.type="http_load_balancer"`;
            assert.equal(threshold("alert-ws-handshake").filter, userMetric("ws-upgrade-failures"));
            assert.equal(threshold("alert-ws-handshake").denominatorFilter, userMetric("ws-upgrade-attempts"));
            assert.equal(threshold("alert-ws-connection").filter, userMetric("ws-connection-failures"));
            assert.equal(threshold("alert-ws-connection").denominatorFilter, userMetric("ws-upgrade-attempts"));
            for (const name of ["alert-5xx", "alert-ws-handshake", "alert-ws-connection", "alert-lb-timeouts"]) {
                assert.equal(threshold(name).duration, "300s");
                assert.equal(threshold(name).comparison, "COMPARISON_GT");
            }
            assert.equal(alert("alert-lb-timeouts").displayName, "Load balancer backend timeouts (HTTP requests)");
            // A rate, not any single event: 5 a minute is 5/60 a second under ALIGN_RATE.
            assert.equal(threshold("alert-lb-timeouts").thresholdValue, 5 / 60);
            assert.equal(threshold("alert-lb-timeouts").aggregations[0].perSeriesAligner, "ALIGN_RATE");
            assert.equal(threshold("alert-lb-timeouts").filter, userMetric("lb-timeout-errors"));
            // Described for what it counts: slow backends, never the WebSocket cut it cannot see.
            assert.match(
                alert("alert-lb-timeouts").documentation.content,
                /did not answer within its route's or backend service's timeout/,
            );
            assert.match(
                alert("alert-lb-timeouts").documentation.content,
                /does not count WebSockets closed at the end of their lifetime/,
            );
            for (const [name, step] of [
                ["alert-5xx", 1],
                ["alert-ws-handshake", 2],
                ["alert-ws-connection", 3],
                ["alert-lb-timeouts", 4],
            ] as const) {
                assert.match(
                    alert(name).documentation.content,
                    new RegExp(`Runbook: docs/configuration\\.md#runbook, step ${step} `),
                );
            }
            for (const [name, channels] of Object.entries(expected.pages)) {
                assert.deepEqual(
                    (alert(name).notificationChannels as string[]).map((id) => byId.get(id) ?? id).sort(),
                    [...channels].sort(),
                    name,
                );
            }
        });

        it("names the resource type in every alert filter, and orders each alert after the log-based metrics it reads", () => {
            const metrics = new Map(ofType(run, METRIC).map((m) => [m.id.split("/").pop(), m.urn]));
            for (const alert of ofType(run, ALERT)) {
                for (const condition of p(alert).conditions as Props[]) {
                    for (const filter of [
                        condition.conditionThreshold.filter,
                        condition.conditionThreshold.denominatorFilter,
                    ]) {
                        if (filter === undefined) {
                            continue;
                        }
                        assert.match(filter, /\bresource\.type="[a-z_]+"/, `${alert.name}: ${filter}`);
                        const user = /logging\.googleapis\.com\/user\/([^"]+)"/.exec(filter)?.[1];
                        if (user) {
                            assert.ok(
                                alert.dependencies.includes(metrics.get(user)!),
                                `${alert.name} depends on ${user}`,
                            );
                        }
                    }
                }
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
