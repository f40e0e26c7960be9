import { strict as assert } from "assert";
import { renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { options } from "../fixtures";
import { passedGate, standInSuite, watch } from "../stand-in-suite";

// The incident runbook's 5xx trigger against the pre-deploy baseline, users sending requests all along.

describe("deploy: the HTTP 5xx trigger against the stand-in", function () {
    this.timeout(90_000);
    const { deployOf } = standInSuite();

    describe("HTTP 5xx rate against the pre-deploy baseline (users sending requests all along)", () => {
        it("a rise of 25 % (20 % → 25 % of requests) is rolled back to the recorded commit", async () => {
            const { target, good, revision } = await deployOf(
                { http5xxPercent: 20 },
                { http5xxPercent: 25 },
                { users: true },
            );
            await new Promise((resolve) => setTimeout(resolve, 2000)); // a baseline window's worth of traffic
            const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(3) }));
            assert.equal(report.exitCode, 1, renderTimeline(report));
            assert.equal(report.fired?.trigger, "http-5xx-increase");
            assert.ok(Math.abs(report.fired.value! - 0.25) < 0.03, String(report.fired.value));
            assert.match(report.fired.detail, /5xx rate 19\.\d %|5xx rate 20\.0 %/);
            assert.equal(
                report.triggers.find((t) => t.trigger === "handshake-failure-rate")?.fired,
                false,
                "handshakes were fine",
            );
            assert.equal(target.appliedProgram.http5xxPercent, 20);
            assert.match(report.phases.find((p) => p.name === "rollback")!.detail, new RegExp(good.slice(0, 12)));
        });

        it("a rise of 15 % (20 % → 23 %) is kept", async () => {
            const { target, deployed, revision } = await deployOf(
                { http5xxPercent: 20 },
                { http5xxPercent: 23 },
                { users: true },
            );
            await new Promise((resolve) => setTimeout(resolve, 2000));
            const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(3) }));
            assert.equal(report.exitCode, 0, renderTimeline(report));
            const t = report.triggers.find((x) => x.trigger === "http-5xx-increase")!;
            assert.equal(t.fired, false);
            assert.ok(Math.abs(t.value! - 0.15) < 0.03, String(t.value));
            assert.equal(target.recordedGoodCommit, deployed);
        });
    });
});
