import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GateResult, PipelineOptions, PipelineReport, renderTimeline, runPipeline } from "../../deploy/pipeline";
import { sourceRevision, withWorktree } from "../../deploy/revisions";
import { LocalStandIn, StandInOptions } from "../../deploy/targets/stand-in";
import { PROGRAM_FILE } from "../../deploy/targets/stand-in-backend";
import { git, options, ProgramRepo } from "./fixtures";

// The seed's rollback triggers, each on its own against the stand-in, with program revisions in
// a real git repository; zero downtime measured; Ctrl-C at the safe points. The gate is passed in
// as already passed: the real offline gate is tested in pipeline.test.ts.

const passedGate = async (): Promise<GateResult> => ({ ok: true, summary: "gate stubbed: tested in pipeline.test.ts" });
const FIXED = { cutAfterSec: null };
const CUT = { cutAfterSec: 0.5 };
const statuses = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);
const watch = (durationSec: number) => ({ durationSec, intervalSec: 0.1, maxHandshakeFailureRate: 0.1, max5xxIncrease: 0.2 });

describe("deploy: the git revisions a rollback returns to (real temporary repositories)", () => {
    it("knows the commit and whether the checkout is dirty", () => {
        const { repo, commit } = ProgramRepo.create({});
        assert.deepEqual(sourceRevision(repo.dir), { repoDir: fs.realpathSync(repo.dir), projectPath: "", commit, dirty: [] });
        repo.write({ echo: false });
        fs.writeFileSync(path.join(repo.dir, "new.txt"), "x");
        assert.deepEqual(sourceRevision(repo.dir)?.dirty, [` M ${PROGRAM_FILE}`, "?? new.txt"]);
        assert.equal(sourceRevision(fs.mkdtempSync("/tmp/not-a-repo-")), undefined);
    });

    it("runs from a temporary worktree of an old commit, leaving the checkout as it was, and removes it even when the work throws", async () => {
        const { repo, commit: good } = ProgramRepo.create({ http5xxPercent: 1 });
        repo.commit({ http5xxPercent: 99 }, "broken");
        repo.write({ http5xxPercent: 50 }); // an uncommitted edit must survive too
        const before = repo.state();
        const revision = sourceRevision(repo.dir)!;
        const seen = await withWorktree(revision, good, async (dir) => {
            assert.notEqual(dir, repo.dir);
            return fs.readFileSync(path.join(dir, PROGRAM_FILE), "utf8");
        });
        assert.match(seen, /"http5xxPercent": 1/);
        await assert.rejects(
            withWorktree(revision, good, async () => {
                throw new Error("up failed");
            }),
            /up failed/,
        );
        assert.deepEqual(repo.state(), before, "HEAD, the file, git status and the worktree list are unchanged");
        assert.equal(git(repo.dir, "branch", "--show-current"), "main");
    });

    it("refuses a commit that is not in the repository, or not a hash, with one clear line", async () => {
        const { repo } = ProgramRepo.create({});
        const revision = sourceRevision(repo.dir)!;
        await assert.rejects(withWorktree(revision, "0".repeat(40), async () => 1), /recorded commit 0{40} is not in the repository at .*; fetch it, or roll back by hand/);
        await assert.rejects(withWorktree(revision, "HEAD; rm -rf /", async () => 1), /recorded commit "HEAD; rm -rf \/": expected a git commit hash/);
    });
});

describe("deploy: rollback triggers, zero downtime and interrupts against the stand-in", function () {
    this.timeout(90_000);
    const standIns: LocalStandIn[] = [];
    const start = async (o: StandInOptions) => {
        const s = await LocalStandIn.start(o);
        standIns.push(s);
        return s;
    };
    after(async () => {
        await Promise.all(standIns.map((s) => s.stop()));
    });

    /** A checkout at a recorded good commit, then a new commit with `next` as the program: the deploy. */
    async function deployOf(good: Parameters<typeof ProgramRepo.create>[0], next: Parameters<typeof ProgramRepo.create>[0], extra: Partial<StandInOptions> = {}) {
        const { repo, commit } = ProgramRepo.create(good);
        const target = await start({ applied: FIXED, desired: FIXED, programDir: repo.dir, lastGoodCommit: commit, ...extra });
        const deployed = repo.commit(next, "the change");
        return { repo, good: commit, deployed, target, revision: sourceRevision(repo.dir)! };
    }

    it("a broken program change (not config) is rolled back to the recorded commit, from a worktree; the user's checkout is unchanged", async () => {
        const { repo, good, target, revision } = await deployOf({}, { echo: false });
        const before = repo.state();
        const report = await runPipeline(target, passedGate, options([], { revision }));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.fired?.trigger, "validation");
        assert.deepEqual(statuses(report).slice(-3), ["propagation: failed", "rollback: ok", "validation after rollback: ok"]);
        assert.match(report.phases.find((p) => p.name === "rollback")!.detail, new RegExp(`last good deploy \\(commit ${good.slice(0, 12)}, from a temporary worktree\\)`));
        assert.equal(target.appliedProgram.echo, true, "the stand-in runs the good commit's program again");
        assert.deepEqual(repo.state(), before, "HEAD, stand-in.json, git status and the worktree list as the user left them");
        assert.equal(target.recordedGoodCommit, good, "a rolled-back deploy records nothing");
    });

    it("without a recorded good commit, restores the config only and says so", async () => {
        const { target, revision } = await deployOf({}, { echo: false }, { lastGoodCommit: undefined });
        const report = await runPipeline(target, passedGate, options([], { revision }));
        assert.match(report.phases.find((p) => p.name === "rollback")!.detail, /^no recorded good commit: config restored only/);
        assert.ok(report.notes.some((n) => /no good commit was recorded for this stack: the rollback restored the config only/.test(n)), report.notes.join("\n"));
    });

    it("a good deploy records its commit: the next rollback returns to it", async () => {
        const { target, deployed, revision } = await deployOf({}, { http5xxPercent: 0, images: ["chat:1", "chat:2"] });
        const report = await runPipeline(target, passedGate, options([], { revision }));
        assert.equal(report.exitCode, 0, renderTimeline(report));
        assert.equal(target.recordedGoodCommit, deployed);
        assert.equal((await target.snapshot()).lastGoodCommit, deployed);
    });

    it("service deploy failure: an image the registry does not have rolls back; the trigger names the image", async () => {
        const { target, revision } = await deployOf({ images: ["chat:1", "chat:2"] }, { images: ["chat:1", "chat:2"] });
        const report = await runPipeline(target, passedGate, options([], { revision, change: { images: { api: "chat:404" } } }));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.fired?.trigger, "service-deploy");
        assert.match(report.fired!.detail, /up failed deploying api=chat:404: service api: image chat:404 not found in the registry/);
        assert.equal(target.appliedImage, "chat:1");
        assert.match(renderTimeline(report), /rollback trigger: service deploy failure: up failed deploying api=chat:404/);

        const good = await runPipeline(target, passedGate, options([], { revision, change: { images: { api: "chat:2" } } }));
        assert.equal(good.exitCode, 0, renderTimeline(good));
        assert.equal(target.appliedImage, "chat:2");
    });

    it("handshake failure rate: 50 % refused during the watch (validation had passed) rolls back, with the value in the report", async () => {
        const { target, revision } = await deployOf({}, {});
        const log: string[] = [];
        const report = await runPipeline(
            target,
            passedGate,
            options(log, {
                revision,
                watch: watch(1.5),
                log: (line) => {
                    log.push(line);
                    if (line === "▶ watch") {
                        target.degrade({ refuseUpgradePercent: 50 });
                    }
                },
            }),
        );
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.deepEqual(statuses(report).slice(-4), ["post-deploy validation: ok", "watch: failed", "rollback: ok", "validation after rollback: ok"]);
        assert.equal(report.fired?.trigger, "handshake-failure-rate");
        assert.ok(report.fired!.value! >= 0.4 && report.fired!.value! <= 0.6, String(report.fired!.value));
        assert.equal(report.fired!.threshold, 0.1);
        assert.match(renderTimeline(report), /rollback trigger: WebSocket handshake failure rate \(measured [456]\d\.\d %, threshold 10\.0 %\): \d+ of \d+ handshakes failed \(.*HANDSHAKE_REFUSED 403\)/);
        const http5xx = report.triggers.find((t) => t.trigger === "http-5xx-increase")!;
        assert.equal(http5xx.fired, undefined, "no users, so no 5xx rate: not measured, and not fired");
        assert.match(http5xx.detail, /no requests to compare/);
    });

    describe("HTTP 5xx rate against the pre-deploy baseline (users sending requests all along)", () => {
        it("a rise of 25 % (20 % → 25 % of requests) is rolled back to the recorded commit", async () => {
            const { target, good, revision } = await deployOf({ http5xxPercent: 20 }, { http5xxPercent: 25 }, { users: true });
            await new Promise((resolve) => setTimeout(resolve, 2000)); // a baseline window's worth of traffic
            const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(3) }));
            assert.equal(report.exitCode, 1, renderTimeline(report));
            assert.equal(report.fired?.trigger, "http-5xx-increase");
            assert.ok(Math.abs(report.fired!.value! - 0.25) < 0.03, String(report.fired!.value));
            assert.match(report.fired!.detail, /5xx rate 19\.\d %|5xx rate 20\.0 %/);
            assert.equal(report.triggers.find((t) => t.trigger === "handshake-failure-rate")?.fired, false, "handshakes were fine");
            assert.equal(target.appliedProgram.http5xxPercent, 20);
            assert.match(report.phases.find((p) => p.name === "rollback")!.detail, new RegExp(good.slice(0, 12)));
        });

        it("a rise of 15 % (20 % → 23 %) is kept", async () => {
            const { target, deployed, revision } = await deployOf({ http5xxPercent: 20 }, { http5xxPercent: 23 }, { users: true });
            await new Promise((resolve) => setTimeout(resolve, 2000));
            const report = await runPipeline(target, passedGate, options([], { revision, watch: watch(3) }));
            assert.equal(report.exitCode, 0, renderTimeline(report));
            const t = report.triggers.find((x) => x.trigger === "http-5xx-increase")!;
            assert.equal(t.fired, false);
            assert.ok(Math.abs(t.value! - 0.15) < 0.03, String(t.value));
            assert.equal(target.recordedGoodCommit, deployed);
        });
    });

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
            const probed = ["up", "propagation", "post-deploy validation", "watch"].map((phase) => z.newConnections[phase]?.attempted ?? 0);
            assert.ok(probed.reduce((a, b) => a + b, 0) >= 5, JSON.stringify(z.newConnections));
            assert.ok(z.endings.every((e) => e.phase === "up" && e.code === 1001));
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
            assert.match(z.summary, /^DOWNTIME: .* 0 closed cleanly by the server \(1001 after draining\), 5 cut \(1006\)/);
            assert.deepEqual(target.replacements, ["killed"]);
        });
    });

    describe("Ctrl-C (the kit's AbortSignal) stops at the next safe point", () => {
        it("before up: nothing changes, exit 130", async () => {
            const { target, revision } = await deployOf({}, { echo: false });
            const controller = new AbortController();
            const gate = async () => {
                controller.abort();
                return { ok: true, summary: "passed, then Ctrl-C" };
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
            assert.match(timeline, new RegExp(`\\$ git worktree add --detach /tmp/rollback-${good.slice(0, 12)} ${good}`));
            assert.match(timeline, /\$ cd \/tmp\/rollback-\w+ && npm ci && pulumi up --stack staging --policy-pack policies/);
        });
    });

    describe("judging the rollback against the baseline (issue 14, defect 5)", () => {
        it("a rollback to a baseline that was already failing the same way is a rollback: exit 1, with a note", async () => {
            const { target, revision } = await deployOf({}, { echo: false }, { applied: CUT, desired: CUT });
            const report = await runPipeline(target, passedGate, options([], { revision }));
            assert.equal(report.validations.baseline.verdict, "fail");
            assert.equal(report.validations["after-rollback"].verdict, "fail");
            assert.equal(report.exitCode, 1, renderTimeline(report));
            assert.equal(report.outcome, "rolled-back");
            assert.match(renderTimeline(report), /note: the baseline was already failing before the deploy; the rollback restored the previous version, which fails no worse than it did/);
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
            assert.ok(steps.filter((s) => s.startsWith("  $ ")).every((s) => !/not available|failed|error/i.test(s)), "no error text dressed as a command");
            const withFile = await run({ reportFile: "/tmp/deploy-report.json" });
            assert.ok(withFile.manualSteps!.some((s) => s.includes("/tmp/deploy-report.json under snapshot.config")));
        });
    });
});
