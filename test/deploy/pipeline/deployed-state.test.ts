import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DeployTarget, renderTimeline, runPipeline, Snapshot } from "../../../deploy/pipeline";
import { sourceRevision, withWorktree } from "../../../deploy/revisions";
import { imagesToDeploy, overridesOf, parseOverrides, stackNotReady } from "../../../deploy/targets/automation";
import { ROOT } from "../../helpers/cli";
import { options, removeTemporaryDirs, temporaryDir } from "../fixtures";
import { passedGate, standInSuite } from "../stand-in-suite";

// A rollback returns to what ran (commit plus the images deployed over its stack file), and
// `--image` is a deployed state that later deploys keep.

const PROJECT = "websocket-lb";
const config = (images: Record<string, string>) => ({
    [`${PROJECT}:backends`]: {
        value: JSON.stringify(
            Object.fromEntries(Object.entries(images).map(([name, image]) => [name, { kind: "instanceGroup", image }])),
        ),
        secret: false,
    },
});

describe("deploy: the state that ran, against the stand-in", function () {
    after(removeTemporaryDirs);
    this.timeout(90_000);
    const { deployOf } = standInSuite();
    const images = ["chat:1", "chat:2"];

    it("--image is kept by the next deploy without it, and a failed deploy rolls back to that image", async () => {
        const { repo, target, revision } = await deployOf({ images }, { images });
        const first = await runPipeline(
            target,
            passedGate,
            options([], { revision, change: { images: { api: "chat:2" } } }),
        );
        assert.equal(first.exitCode, 0, renderTimeline(first));
        assert.equal(target.appliedImage, "chat:2");

        // A new commit deployed without --image: the image that was running stays.
        const second = repo.commit({ images, http5xxPercent: 0 }, "a change that is not the image");
        const next = await runPipeline(target, passedGate, options([], { revision: sourceRevision(repo.dir)! }));
        assert.equal(next.exitCode, 0, renderTimeline(next));
        assert.equal(target.appliedImage, "chat:2", "the earlier --image is a deployed state, not a one-off");
        assert.equal(target.recordedGoodCommit, second);

        // A broken commit: the rollback returns to the program of the last good commit and chat:2.
        repo.commit({ images, echo: false }, "a broken change");
        const broken = await runPipeline(target, passedGate, options([], { revision: sourceRevision(repo.dir)! }));
        assert.equal(broken.exitCode, 1, renderTimeline(broken));
        assert.equal(target.appliedImage, "chat:2", "rolled back to the image that was serving");
        assert.equal(target.appliedProgram.echo, true);
    });
});

describe("deploy: the Pulumi target's record of what ran", () => {
    after(removeTemporaryDirs);
    it("carries a recorded image while the stack file still says what it said then; the file or --image wins otherwise", () => {
        const recorded = { api: { image: "api:1.4.3", over: "api:1.4.2" } };
        assert.deepEqual(imagesToDeploy(config({ api: "api:1.4.2" }), PROJECT, {}, recorded), { api: "api:1.4.3" });
        assert.deepEqual(imagesToDeploy(config({ api: "api:1.5.0" }), PROJECT, {}, recorded), {});
        assert.deepEqual(imagesToDeploy(config({ api: "api:1.4.2" }), PROJECT, { api: "api:2" }, recorded), {
            api: "api:2",
        });
        assert.deepEqual(imagesToDeploy(config({ web: "w:1" }), PROJECT, {}, recorded), {}, "a backend gone");
    });

    it("records only the images that differ from the stack file, and reads a record back", () => {
        const overrides = overridesOf(config({ api: "api:1.4.2", web: "w:1" }), PROJECT, {
            api: "api:1.4.3",
            web: "w:1",
        });
        assert.deepEqual(overrides, { api: { image: "api:1.4.3", over: "api:1.4.2" } });
        assert.deepEqual(parseOverrides(JSON.stringify(overrides)), overrides);
        assert.deepEqual(parseOverrides("not json"), {});
        assert.deepEqual(parseOverrides(undefined), {});
        assert.deepEqual(parseOverrides('{"api": 3}'), {});
    });

    it("names a lock or pending operations with the commands that clear them", () => {
        assert.equal(stackNotReady("staging", [], 0), undefined);
        const message = stackNotReady(
            "staging",
            [{ file: "/b/.pulumi/locks/organization/websocket-lb/staging/x.json", pid: 4242, host: "ci" }],
            2,
        );
        assert.match(
            message ?? "",
            /^stack staging is held by an update that did not finish \(locked by \/b\/\.pulumi\/locks\/.*x\.json \(pid 4242 on ci\); 2 pending operations in its state\); if no update of it is running, run: pulumi cancel --stack staging --yes, then pulumi refresh --stack staging --clear-pending-creates --yes, then deploy again$/,
        );
    });
});

describe("deploy: the state exported before up is kept only while it is needed", function () {
    after(removeTemporaryDirs);
    this.timeout(60_000);
    const { start } = standInSuite();

    /** The stand-in, with a state file as the Pulumi target writes one (0600, in a private folder). */
    async function withStateFile(failUps?: number[]) {
        const standIn = await start({ applied: { cutAfterSec: null }, desired: { cutAfterSec: null }, failUps });
        const file = path.join(temporaryDir("deploy-state-"), "before.json");
        fs.writeFileSync(file, "{}", { mode: 0o600 });
        const target: DeployTarget = {
            description: standIn.description,
            preview: (change) => standIn.preview(change),
            snapshot: async (): Promise<Snapshot> => ({
                ...(await standIn.snapshot()),
                deploymentFile: file,
                deploymentFileTemporary: true,
            }),
            up: (change) => standIn.up(change),
            rollback: (snapshot) => standIn.rollback(snapshot),
            recordGood: (commit) => standIn.recordGood(commit),
            metrics: () => standIn.metrics(),
            signalSource: () => standIn.signalSource(),
            endpoint: () => standIn.endpoint(),
        };
        return { target, file };
    }

    it("a deploy that ends well removes it", async () => {
        const { target, file } = await withStateFile();
        const report = await runPipeline(target, passedGate, options([]));
        assert.equal(report.exitCode, 0, renderTimeline(report));
        assert.equal(fs.existsSync(file), false, `${file} is still there`);
        assert.equal(report.snapshot?.deploymentFile, undefined, "the report names no removed file");
    });

    it("a failed rollback keeps it: its manual steps tell a person to import it", async () => {
        const { target, file } = await withStateFile([1, 2]);
        const report = await runPipeline(target, passedGate, options([]));
        assert.equal(report.exitCode, 3, renderTimeline(report));
        assert.ok(fs.existsSync(file));
        assert.ok(report.manualSteps?.some((s) => s.includes(`--file ${file}`)));
    });
});

describe("deploy: a rollback's worktree runs the compiled policy pack", function () {
    after(removeTemporaryDirs);
    this.timeout(120_000);

    it("the pack is compiled in the worktree (its build is not in git)", async () => {
        const revision = sourceRevision(ROOT)!;
        const head = revision.commit;
        const built = await withWorktree(
            revision,
            head,
            (dir) => Promise.resolve(fs.existsSync(path.join(dir, "policies", "bin", "index.js"))),
            { packPath: "policies" },
        );
        assert.equal(built, true);
    });
});
