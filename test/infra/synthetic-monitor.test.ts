import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramError, ProgramRun, RecordedResource } from "../../preview";
import { FUNCTION_BUILD_ROLES, FUNCTION_RUNTIME, runtimeStage } from "../../policies/facts";
import { dependedOnBy, named, ofType, PROJECT_DIR, runStack } from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const T = {
    bucket: "gcp:storage/bucket:Bucket",
    object: "gcp:storage/bucketObject:BucketObject",
    fn: "gcp:cloudfunctionsv2/function:Function",
    uptime: "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    alert: "gcp:monitoring/alertPolicy:AlertPolicy",
    channel: "gcp:monitoring/notificationChannel:NotificationChannel",
    secretAccess: "gcp:secretmanager/secretIamMember:SecretIamMember",
    account: "gcp:serviceaccount/account:Account",
    metric: "gcp:logging/metric:Metric",
    projectIam: "gcp:projects/iAMMember:IAMMember",
};
const p = (r: RecordedResource) => r.inputs as Props;

const EXPECTED = {
    // Staging has no alert routes: every channel. Production routes chat degradation to business.
    staging: {
        url: "wss://staging.chat.example.com",
        channels: ["WebSocket LB alerts: chat-staging-alerts@example.com"],
    },
    production: {
        url: "wss://chat.example.com",
        channels: [
            "WebSocket LB business: Pub/Sub business-alerts",
            "WebSocket LB business: chat-business@example.com",
        ],
    },
};

for (const [stack, expected] of Object.entries(EXPECTED)) {
    describe(`infrastructure: the chat synthetic monitor of the ${stack} stack (mock runtime)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runStack(stack);
        });

        it("builds the function from the validator and the scenario: a zip of StringAssets in a bucket the stack creates", () => {
            const [bucket] = ofType(run, T.bucket);
            const object = named(run, T.object, "chat-synthetic-source");
            assert.equal(p(bucket).uniformBucketLevelAccess, true);
            assert.equal(p(bucket).publicAccessPrevention, "enforced");
            assert.equal(p(object).bucket, p(bucket).name);
            assert.match(p(object).name, /^chat-synthetic-[0-9a-f]{12}\.zip$/);
            const assets = p(object).source.assets as Record<string, { text: string }>;
            for (const file of [
                "index.js",
                "package.json",
                "validator/synthetic-monitor.js",
                "validator/scenario/parse.js",
                "validator/scenario/run.js",
                "validator/core/connect.js",
                "cli/kit.js",
                "validator/scenarios/chat.yaml",
                "validator/scenarios/scenario.schema.json",
            ]) {
                assert.ok(assets[file], `the zip has no ${file}; it has ${Object.keys(assets).join(", ")}`);
            }
            const pkg = JSON.parse(assets["package.json"].text) as { dependencies: Record<string, string> };
            assert.equal(pkg.dependencies["@google-cloud/synthetics-sdk-api"], "0.7.0");
            assert.ok(pkg.dependencies.ws && pkg.dependencies.yaml && pkg.dependencies.ajv);
            assert.match(assets["index.js"].text, /runSyntheticHandler\(checkAndRecord\)/);
        });

        it("declares a 2nd gen function on that source, pointed at the stack's first domain, reading the chat token from Secret Manager", () => {
            const fn = named(run, T.fn, "chat-synthetic");
            const object = named(run, T.object, "chat-synthetic-source");
            assert.deepEqual(p(fn).buildConfig.source.storageSource, {
                bucket: p(object).bucket,
                object: p(object).name,
            });
            assert.equal(p(fn).buildConfig.entryPoint, "chatSynthetic");
            assert.equal(p(fn).serviceConfig.environmentVariables.WS_VALIDATE_URL, expected.url);
            assert.equal(p(fn).serviceConfig.environmentVariables.WS_VALIDATE_SCENARIO, "scenarios/chat.yaml");
            assert.deepEqual(
                p(fn).serviceConfig.secretEnvironmentVariables.map((s: Props) => [s.key, s.secret, s.version]),
                [["CHAT_TOKEN", "chat-monitor-token", "latest"]],
            );
            assert.ok(
                dependedOnBy(run, fn, "serviceConfig").some((r) => r.type === T.account),
                "the function runs as its own service account",
            );
            assert.equal(
                p(named(run, T.secretAccess, "chat-synthetic-token")).role,
                "roles/secretmanager.secretAccessor",
            );
        });

        it("builds on a runtime Google still supports today, as its own build service account with the roles the build needs", () => {
            const fn = named(run, T.fn, "chat-synthetic");
            assert.equal(p(fn).buildConfig.runtime, FUNCTION_RUNTIME);
            assert.equal(runtimeStage(p(fn).buildConfig.runtime, new Date().toISOString().slice(0, 10)), "supported");
            const build = named(run, T.account, "chat-synthetic-build");
            assert.deepEqual(
                dependedOnBy(run, fn, "buildConfig")
                    .filter((r) => r.type === T.account)
                    .map((r) => r.urn),
                [build.urn],
                "buildConfig.serviceAccount is the build account's name",
            );
            const roles = ofType(run, T.projectIam).filter((r) =>
                dependedOnBy(run, r, "member").some((a) => a.urn === build.urn),
            );
            assert.deepEqual(roles.map((r) => p(r).role).sort(), [...FUNCTION_BUILD_ROLES].sort());
            for (const role of roles) {
                assert.ok(fn.dependencies.includes(role.urn), `the function waits for ${p(role).role}`);
            }
        });

        it("runs it every minute as an uptime check's synthetic monitor, and alerts on its failed runs, counted from the function's own log line", () => {
            const fn = named(run, T.fn, "chat-synthetic");
            const uptime = named(run, T.uptime, "chat-synthetic");
            assert.equal(p(uptime).period, "60s");
            assert.equal(p(uptime).syntheticMonitor.cloudFunctionV2.name, fn.id);
            const metric = named(run, T.metric, "chat-chat-synthetic-failures");
            assert.match(
                p(metric).filter,
                /^resource\.type="cloud_run_revision" AND resource\.labels\.service_name="[^"]+" AND jsonPayload\.chatSyntheticRun="failed"$/,
            );
            assert.ok(metric.dependencies.includes(fn.urn), "the metric reads this function's logs");
            const alert = named(run, T.alert, "chat-alert-chat-degradation");
            assert.equal(p(alert).displayName, "Chat functionality degradation");
            const [condition] = p(alert).conditions;
            assert.equal(
                condition.conditionThreshold.filter,
                `metric.type="logging.googleapis.com/user/${metric.id.split("/").pop()}" AND resource.type="cloud_run_revision"`,
            );
            // Two failed runs within two periods: one lost run does not page.
            assert.deepEqual(condition.conditionThreshold.aggregations, [
                { alignmentPeriod: "120s", perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_SUM" },
            ]);
            assert.equal(condition.conditionThreshold.thresholdValue, 1);
            assert.ok(alert.dependencies.includes(metric.urn));
            const names = new Map(ofType(run, T.channel).map((c) => [c.id, String(p(c).displayName)]));
            assert.deepEqual(
                (p(alert).notificationChannels as string[]).map((id) => names.get(id)).sort(),
                [...expected.channels].sort(),
            );
        });
    });
}

describe("infrastructure: the synthetic monitor's config", () => {
    it("is off by default: a stack file that does not set syntheticMonitor declares none of it, and false turns it off", async () => {
        const stackFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-stack-")), "Pulumi.staging.yaml");
        const staging = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
        fs.writeFileSync(stackFile, staging.replace(/^ {2}websocket-lb:syntheticMonitor:\n( {4}.*\n)*/m, ""));
        assert.doesNotMatch(fs.readFileSync(stackFile, "utf8"), /syntheticMonitor/);
        for (const run of [
            await runStack("staging", [], stackFile),
            await runStack("staging", ["syntheticMonitor=false"]),
        ]) {
            assert.deepEqual(
                [T.fn, T.uptime, T.bucket, T.object].flatMap((t) => ofType(run, t)),
                [],
            );
            assert.ok(!ofType(run, T.alert).some((a) => a.name === "chat-alert-chat-degradation"));
        }
    });

    it("takes a period from config", async () => {
        const run = await runStack("staging", ['syntheticMonitor={"periodSec": 300}']);
        assert.equal(p(named(run, T.uptime, "chat-synthetic")).period, "300s");
        assert.equal(ofType(run, T.secretAccess).length, 0, "no token secret, no access to one");
    });

    it("rejects a period Cloud Monitoring does not accept, an unknown key and a missing scenario, naming each", async () => {
        let message = "";
        try {
            await runStack("staging", [
                'syntheticMonitor={"periodSec": 120, "perod": 1, "scenario": "validator/scenarios/nope.yaml"}',
            ]);
        } catch (e) {
            assert.ok(e instanceof ProgramError, String(e));
            message = e.message;
        }
        assert.match(message, /websocket-lb:syntheticMonitor\.periodSec is 120; allowed: 60, 300, 600, 900/);
        assert.match(
            message,
            /websocket-lb:syntheticMonitor\.perod is 1; unknown key; allowed: enabled, periodSec, region, scenario, tokenSecret/,
        );
        assert.match(
            message,
            /websocket-lb:syntheticMonitor\.scenario is "validator\/scenarios\/nope\.yaml"; no such file in the project/,
        );
    });
});
