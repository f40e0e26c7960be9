import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { sourceRevision, withWorktree } from "../../../deploy/revisions";
import { PROGRAM_FILE } from "../../../deploy/targets/stand-in-backend";
import { git, options, ProgramRepo, removeTemporaryDirs, temporaryDir } from "../fixtures";
import { passedGate, standInSuite, statuses, watch } from "../stand-in-suite";

// The incident runbook's rollback triggers, each on its own against the stand-in, with program revisions in
// a real git repository. The gate is passed in as already passed: the real offline gate is
// tested in pipeline.test.ts.

describe("deploy: the git revisions a rollback returns to (real temporary repositories)", () => {
    after(removeTemporaryDirs);
    it("knows the commit and whether the checkout is dirty", () => {
        const { repo, commit } = ProgramRepo.create({});
        assert.deepEqual(sourceRevision(repo.dir), {
            repoDir: fs.realpathSync(repo.dir),
            projectPath: "",
            commit,
            dirty: [],
        });
        repo.write({ echo: false });
        fs.writeFileSync(path.join(repo.dir, "new.txt"), "x");
        assert.deepEqual(sourceRevision(repo.dir)?.dirty, [` M ${PROGRAM_FILE}`, "?? new.txt"]);
        assert.equal(sourceRevision(temporaryDir("not-a-repo-")), undefined);
    });

    it("runs from a temporary worktree of an old commit, leaving the checkout as it was, and removes it even when the work throws", async () => {
        const { repo, commit: good } = ProgramRepo.create({ http5xxPercent: 1 });
        repo.commit({ http5xxPercent: 99 }, "broken");
        repo.write({ http5xxPercent: 50 }); // an uncommitted edit must survive too
        const before = repo.state();
        const revision = sourceRevision(repo.dir)!;
        const seen = await withWorktree(revision, good, (dir) => {
            assert.notEqual(dir, repo.dir);
            return Promise.resolve(fs.readFileSync(path.join(dir, PROGRAM_FILE), "utf8"));
        });
        assert.match(seen, /"http5xxPercent": 1/);
        await assert.rejects(
            withWorktree(revision, good, () => Promise.reject(new Error("up failed"))),
            /up failed/,
        );
        assert.deepEqual(repo.state(), before, "HEAD, the file, git status and the worktree list are unchanged");
        assert.equal(git(repo.dir, "branch", "--show-current"), "main");
    });

    it("refuses a commit that is not in the repository, or not a hash, with one clear line", async () => {
        const { repo } = ProgramRepo.create({});
        const revision = sourceRevision(repo.dir)!;
        await assert.rejects(
            withWorktree(revision, "0".repeat(40), () => Promise.resolve(1)),
            /recorded commit 0{40} is not in the repository at .*; fetch it, or roll back by hand/,
        );
        await assert.rejects(
            withWorktree(revision, "HEAD; rm -rf /", () => Promise.resolve(1)),
            /recorded commit "HEAD; rm -rf \/": expected a git commit hash/,
        );
    });
});

describe("deploy: rollback triggers against the stand-in, each on its own", function () {
    after(removeTemporaryDirs);
    this.timeout(90_000);
    const { deployOf } = standInSuite();

    it("a broken program change (not config) is rolled back to the recorded commit, from a worktree; the user's checkout is unchanged", async () => {
        const { repo, good, target, revision } = await deployOf({}, { echo: false });
        const before = repo.state();
        const report = await runPipeline(target, passedGate, options([], { revision }));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.fired?.trigger, "validation");
        assert.deepEqual(statuses(report).slice(-3), [
            "propagation: failed",
            "rollback: ok",
            "validation after rollback: ok",
        ]);
        assert.match(
            report.phases.find((p) => p.name === "rollback")!.detail,
            new RegExp(`last good deploy \\(commit ${good.slice(0, 12)}, from a temporary worktree\\)`),
        );
        assert.equal(target.appliedProgram.echo, true, "the stand-in runs the good commit's program again");
        assert.deepEqual(
            repo.state(),
            before,
            "HEAD, stand-in.json, git status and the worktree list as the user left them",
        );
        assert.equal(target.recordedGoodCommit, good, "a rolled-back deploy records nothing");
    });

    it("without a recorded good commit, restores the config only and says so", async () => {
        const { target, revision } = await deployOf({}, { echo: false }, { lastGoodCommit: undefined });
        const report = await runPipeline(target, passedGate, options([], { revision }));
        assert.match(
            report.phases.find((p) => p.name === "rollback")!.detail,
            /^no recorded good commit: config restored only/,
        );
        assert.ok(
            report.notes.some((n) =>
                /no good commit was recorded for this stack: the rollback restored the config only/.test(n),
            ),
            report.notes.join("\n"),
        );
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
        const report = await runPipeline(
            target,
            passedGate,
            options([], { revision, change: { images: { api: "chat:404" } } }),
        );
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.fired?.trigger, "service-deploy");
        assert.match(
            report.fired.detail,
            /up failed deploying api=chat:404: service api: image chat:404 not found in the registry/,
        );
        assert.equal(target.appliedImage, "chat:1");
        assert.match(
            renderTimeline(report),
            /rollback trigger: service deploy failure: up failed deploying api=chat:404/,
        );

        const good = await runPipeline(
            target,
            passedGate,
            options([], { revision, change: { images: { api: "chat:2" } } }),
        );
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
        assert.deepEqual(statuses(report).slice(-4), [
            "post-deploy validation: ok",
            "watch: failed",
            "rollback: ok",
            "validation after rollback: ok",
        ]);
        assert.equal(report.fired?.trigger, "handshake-failure-rate");
        assert.ok(report.fired.value! >= 0.4 && report.fired.value! <= 0.6, String(report.fired.value));
        assert.equal(report.fired.threshold, 0.1);
        assert.match(
            renderTimeline(report),
            /rollback trigger: WebSocket handshake failure rate \(measured [456]\d\.\d %, threshold 10\.0 %\): \d+ of \d+ handshakes failed \(.*HANDSHAKE_REFUSED 403\)/,
        );
        const http5xx = report.triggers.find((t) => t.trigger === "http-5xx-increase")!;
        assert.equal(http5xx.fired, undefined, "no users, so no 5xx rate: not measured, and not fired");
        assert.match(http5xx.detail, /no requests to compare/);
    });
});
