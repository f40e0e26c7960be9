import { strict as assert } from "assert";
import { renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { options } from "../fixtures";
import { passedGate, standInSuite, watch } from "../stand-in-suite";

// Zero downtime, measured through the stand-in's rolling replacement.

describe("deploy: zero downtime against the stand-in", function () {
    this.timeout(90_000);
    const { deployOf } = standInSuite();

    describe("zero downtime, measured: held connections and new ones through a rolling replacement", () => {
        const keep = { connections: 5, probeIntervalMs: 100 };

        it("a drained replacement: every held connection closed by the server with 1001, every new connection opened", async () => {
            const { target, revision } = await deployOf({ drainOnShutdown: true }, { drainOnShutdown: true });
            const report = await runPipeline(target, passedGate, options([], { revision, keep, watch: watch(0.5) }));
            assert.equal(report.exitCode, 0, renderTimeline(report));
            const z = report.zeroDowntime!;
            assert.equal(z.verdict, "zero downtime", z.summary);
            assert.equal(z.held.drained, 5, z.summary);
            assert.equal(z.held.cut, 0);
            assert.equal(z.deploySuccessRate, 1);
            const probed = ["up", "propagation", "post-deploy validation", "watch"].map(
                (phase) => z.newConnections[phase]?.attempted ?? 0,
            );
            assert.ok(probed.reduce((a, b) => a + b, 0) >= 5, JSON.stringify(z.newConnections));
            assert.ok(z.endings.every((e) => e.phase === "up" && e.code === 1001));
            // Each drained connection was reopened: 10 opened, 5 drained, 5 open at the end, and the line says so.
            assert.equal(z.held.opened, z.held.drained + z.held.cut + z.held.other + z.held.stillOpen, z.summary);
            assert.match(
                z.summary,
                /; of 10 held connections \(5 at a time, each reopened when it ended\): 5 closed cleanly by the server \(1001 after draining\), 0 cut \(1006\), 0 other, 5 open at the end$/,
            );
            assert.deepEqual(target.replacements, ["drained"]);
        });

        it("a replacement that does not drain: every held connection cut (1006), and the verdict says downtime", async () => {
            const { target, revision } = await deployOf({ drainOnShutdown: false }, { drainOnShutdown: false });
            const report = await runPipeline(target, passedGate, options([], { revision, keep, watch: watch(0.5) }));
            assert.equal(report.exitCode, 0, renderTimeline(report));
            const z = report.zeroDowntime!;
            assert.equal(z.verdict, "downtime", z.summary);
            assert.equal(z.held.cut, 5, z.summary);
            assert.equal(z.held.drained, 0);
            assert.match(
                z.summary,
                /^DOWNTIME: .* 0 closed cleanly by the server \(1001 after draining\), 5 cut \(1006\)/,
            );
            assert.deepEqual(target.replacements, ["killed"]);
        });
    });
});
