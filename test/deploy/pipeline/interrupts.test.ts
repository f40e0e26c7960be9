import { strict as assert } from "assert";
import { PipelineOptions, renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { options } from "../fixtures";
import { CUT, FIXED, passedGate, standInSuite, statuses } from "../stand-in-suite";

// Ctrl-C at the pipeline's safe points, and how a rollback is judged against the baseline.

describe("deploy: Ctrl-C and the rollback's verdict against the stand-in", function () {
    this.timeout(90_000);
    const { start, deployOf } = standInSuite();

    describe("Ctrl-C (the kit's AbortSignal) stops at the next safe point", () => {
        it("before up: nothing changes, exit 130", async () => {
            const { target, revision } = await deployOf({}, { echo: false });
            const controller = new AbortController();
            const gate = () => {
                controller.abort();
                return Promise.resolve({ ok: true, summary: "passed, then Ctrl-C" });
            };
            const report = await runPipeline(target, gate, options([], { revision, signal: controller.signal }));
            assert.equal(report.exitCode, 130);
            assert.equal(report.outcome, "interrupted");
            assert.deepEqual(statuses(report), ["gate: offline preview with the policy pack: ok"]);
            assert.deepEqual(target.replacements, [], "up never ran");
            assert.match(renderTimeline(report), /note: interrupted before up: nothing was changed/);
        });

        it("during up: up finishes, validation stops, the report carries the exact rollback commands, exit 130", async () => {
            const { target, good, revision } = await deployOf({}, { echo: false });
            const controller = new AbortController();
            const log: string[] = [];
            const report = await runPipeline(
                target,
                passedGate,
                options(log, {
                    revision,
                    signal: controller.signal,
                    log: (line) => {
                        log.push(line);
                        if (line === "▶ up") {
                            controller.abort();
                        }
                    },
                }),
            );
            assert.equal(report.exitCode, 130, renderTimeline(report));
            assert.equal(report.outcome, "interrupted");
            assert.equal(statuses(report).at(-1), "up: ok", "up ran to its end; nothing validated after it");
            assert.equal(target.appliedProgram.echo, false, "the new version is live, unproven");
            const timeline = renderTimeline(report);
            assert.match(timeline, /!!! INTERRUPTED after up: the new version is unproven\./);
            assert.match(
                timeline,
                new RegExp(`\\$ git worktree add --detach /tmp/rollback-${good.slice(0, 12)} ${good}`),
            );
            assert.match(
                timeline,
                /\$ cd \/tmp\/rollback-\w+ && npm ci && pulumi up --stack staging --policy-pack policies/,
            );
        });
    });

    describe("judging the rollback against the baseline", () => {
        it("a rollback to a baseline that was already failing the same way is a rollback: exit 1, with a note", async () => {
            const { target, revision } = await deployOf({}, { echo: false }, { applied: CUT, desired: CUT });
            const report = await runPipeline(target, passedGate, options([], { revision }));
            assert.equal(report.validations.baseline.verdict, "fail");
            assert.equal(report.validations["after-rollback"].verdict, "fail");
            assert.equal(report.exitCode, 1, renderTimeline(report));
            assert.equal(report.outcome, "rolled-back");
            assert.match(
                renderTimeline(report),
                /note: the baseline was already failing before the deploy; the rollback restored the previous version, which fails no worse than it did/,
            );
        });

        it("a failed rollback's manual steps are commands or notes, and name a report only when one is written", async () => {
            const run = async (extra: Partial<PipelineOptions>) => {
                const target = await start({ applied: FIXED, desired: CUT, failUps: [2] });
                return runPipeline(target, passedGate, options([], extra));
            };
            const without = await run({});
            assert.equal(without.exitCode, 3);
            const steps = without.manualSteps!;
            assert.ok(steps.includes("  $ pulumi config set standin:cutAfterSec null"), steps.join("\n"));
            assert.ok(!steps.some((s) => /report/.test(s)), "no report was written, so none is named");
            assert.ok(
                steps.filter((s) => s.startsWith("  $ ")).every((s) => !/not available|failed|error/i.test(s)),
                "no error text dressed as a command",
            );
            const withFile = await run({ reportFile: "/tmp/deploy-report.json" });
            assert.ok(withFile.manualSteps!.some((s) => s.includes("/tmp/deploy-report.json under snapshot.config")));
        });
    });
});
