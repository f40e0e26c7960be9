import { strict as assert } from "assert";
import { CloudMonitoringSource, MetricsSource } from "../../../deploy/metrics";
import { renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { options } from "../fixtures";
import { passedGate, standInSuite, statuses, watch } from "../stand-in-suite";

// A rollback trigger whose signal cannot be read: found before up, or reported as not measured,
// never a crash of the run.

/**
 * Cloud Monitoring through Google's client with Application Default Credentials that cannot
 * load: GOOGLE_APPLICATION_CREDENTIALS names a key file that is not there (set in `before`).
 */
const unreadable = () =>
    new CloudMonitoringSource({ project: "example-chat-staging", forwardingRuleName: "chat-https" });

describe("deploy: a 5xx source that cannot be read", function () {
    this.timeout(60_000);
    const { deployOf } = standInSuite();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    before(() => {
        process.env.GOOGLE_APPLICATION_CREDENTIALS = "/nonexistent/websocket-lb-test-key.json";
        process.on("unhandledRejection", onUnhandled);
    });
    after(() => {
        process.off("unhandledRejection", onUnhandled);
        if (saved === undefined) {
            delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
        } else {
            process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
        }
    });

    it("Google's client without credentials rejects the read itself: no unhandled rejection", async () => {
        const source = unreadable();
        await assert.rejects(
            source.requestCounts({ start: new Date(Date.now() - 60_000), end: new Date() }),
            /no Google credentials for Cloud Monitoring \(.*\); run gcloud auth application-default login/,
        );
        await source.close();
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(unhandled.map(String), []);
    });

    it("no credentials before up: exit 2, one line naming the way out, nothing changed", async () => {
        const { target, revision } = await deployOf({}, {});
        target.metricsOverride = unreadable();
        const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(0.5) }));
        assert.equal(report.exitCode, 2, renderTimeline(report));
        assert.equal(report.outcome, "not-started");
        assert.equal(statuses(report).at(-1), "signal sources readable: failed");
        assert.match(
            report.phases.at(-1)!.detail,
            /^no Google credentials for Cloud Monitoring .*; or deploy knowingly without the 5xx trigger: --no-5xx-trigger$/,
        );
        assert.deepEqual(target.replacements, [], "up never ran");
    });

    it("--no-5xx-trigger deploys knowingly: the trigger is reported off, the others judged", async () => {
        const { target, revision } = await deployOf({}, {});
        target.metricsOverride = unreadable();
        const report = await runPipeline(
            target,
            passedGate,
            options([], { revision, watch: { ...watch(0.5), no5xxTrigger: true } }),
        );
        assert.equal(report.exitCode, 0, renderTimeline(report));
        const http5xx = report.triggers.find((t) => t.trigger === "http-5xx-increase")!;
        assert.deepEqual([http5xx.fired, http5xx.detail], [undefined, "turned off (--no-5xx-trigger)"]);
        assert.equal(report.triggers.find((t) => t.trigger === "handshake-failure-rate")!.fired, false);
    });

    it("a read that fails in the watch window: not measured, and the run ends with its summary", async () => {
        const { target, revision } = await deployOf({}, {});
        const failing: MetricsSource = {
            description: "a metrics source whose reads fail",
            checkCredentials: () => Promise.resolve(),
            requestCounts: () =>
                Promise.reject(new Error("14 UNAVAILABLE: the monitoring API did not answer\n(a second line)")),
        };
        target.metricsOverride = failing;
        const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(0.5) }));
        assert.equal(report.exitCode, 0, renderTimeline(report));
        assert.equal(report.outcome, "deployed");
        const http5xx = report.triggers.find((t) => t.trigger === "http-5xx-increase")!;
        assert.equal(http5xx.fired, undefined);
        assert.equal(
            http5xx.detail,
            "could not read a metrics source whose reads fail: 14 UNAVAILABLE: the monitoring API did not answer",
        );
        assert.match(
            renderTimeline(report),
            /HTTP 5xx rate increase over the pre-deploy baseline: not measured: could not read/,
        );
        assert.deepEqual(unhandled.map(String), []);
    });
});
