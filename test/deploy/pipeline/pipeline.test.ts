import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { RunningPack } from "../../../preview";
import { main } from "../../../deploy/cli";
import { offlineGate } from "../../../deploy/gate";
import { PipelineReport, renderTimeline, runPipeline } from "../../../deploy/pipeline";
import { backendPathEdits, endpointFromOutputs, rollbackConfig, withImages } from "../../../deploy/targets/automation";
import { LocalStandIn, StandInConfig } from "../../../deploy/targets/stand-in";
import { ROOT } from "../../helpers/cli";
import { options, ProgramRepo, removeTemporaryDirs, temporaryDir } from "../fixtures";

const PACK_DIR = path.join(ROOT, "policies");

const CUT: StandInConfig = { cutAfterSec: 0.5 };
const FIXED: StandInConfig = { cutAfterSec: null };
const statuses = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);

describe("deploy: the pipeline against the local stand-in (real validator, real sockets)", function () {
    after(removeTemporaryDirs);
    // Each deploy runs the program under the mock runtime: sized for a busy 2-core machine.
    this.timeout(180_000);
    let pack: RunningPack;
    const standIns: LocalStandIn[] = [];
    const gate = () => offlineGate(ROOT, "staging", PACK_DIR, pack);
    const standIn = async (applied: StandInConfig, desired: StandInConfig, failUps?: number[]) => {
        const s = await LocalStandIn.start({ applied, desired, failUps });
        standIns.push(s);
        return s;
    };

    before(async function () {
        // RunningPack.start gives the pack 60 s to print its port; the hook waits a little longer.
        this.timeout(90_000);
        // One pack serves every gate here; each deploy still runs the program and the analysis.
        pack = await RunningPack.start(PACK_DIR).ready;
    });
    after(async () => {
        pack.stop();
        await Promise.all(standIns.map((s) => s.stop()));
    });

    it("a good deploy (the 30 s cut fixed) passes: exit 0, with the baseline showing the cut it fixed, then watches", async () => {
        const target = await standIn(CUT, FIXED);
        const log: string[] = [];
        const report = await runPipeline(
            target,
            gate(),
            options(log, {
                watch: { durationSec: 0.5, intervalSec: 0.2, maxHandshakeFailureRate: 0.1, max5xxIncrease: 0.2 },
            }),
        );
        assert.equal(report.exitCode, 0, renderTimeline(report));
        assert.equal(report.outcome, "deployed");
        assert.deepEqual(statuses(report), [
            "gate: offline preview with the policy pack: ok",
            "preview with the policy pack: ok",
            "baseline validation (recorded, not a gate): recorded",
            "snapshot for rollback: ok",
            "up: ok",
            "propagation: ok",
            "post-deploy validation: ok",
            "watch: ok",
        ]);
        assert.ok(
            log.filter((l) => /^\d{4}-\d\d-\d\dT.* \/ws +ok +handshake/.test(l)).length >= 2,
            "watch status lines",
        );
        assert.deepEqual(
            report.triggers.map((t) => [t.trigger, t.fired]),
            [
                ["service-deploy", false],
                ["validation", false],
                ["handshake-failure-rate", false],
                ["http-5xx-increase", undefined],
            ],
        );
        assert.equal(report.validations.baseline.endpoints[0].diagnosis, "lifetime-cap");
        assert.equal(report.validations["post-deploy"].verdict, "pass");
        assert.deepEqual(target.appliedConfig, FIXED);
        assert.match(
            renderTimeline(report),
            /^deploy staging to local stand-in .*: DEPLOYED \(exit 0\)\n {2}gate: offline preview with the policy pack +ok +\d+\.\d s {2}\d+ resources, 0 mandatory violations/,
        );
    });

    it("a deploy whose validation fails is rolled back, and the rollback is validated: exit 1", async () => {
        const target = await standIn(FIXED, CUT);
        const report = await runPipeline(target, gate(), options([], { propagationTimeoutSec: 3 }));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.outcome, "rolled-back");
        assert.deepEqual(statuses(report).slice(4), [
            "up: ok",
            "propagation: failed",
            "rollback: ok",
            "validation after rollback: ok",
        ]);
        assert.match(
            report.phases.find((p) => p.name === "propagation")!.detail,
            /still failing after \d+ attempts and 3 s: FAIL: \d+ failures \(CUT_BEFORE_HOLD\)/,
        );
        assert.ok(
            Object.keys(report.validations).filter((k) => k.startsWith("propagation-")).length >= 2,
            "re-validated with backoff, not once",
        );
        assert.deepEqual(target.appliedConfig, FIXED, "the stack is back on its previous config");
        assert.equal(report.validations["after-rollback"].verdict, "pass");
    });

    it("a failed up rolls back: exit 1", async () => {
        const target = await standIn(FIXED, FIXED, [1]);
        const report = await runPipeline(target, gate(), options([]));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.deepEqual(statuses(report).slice(4), ["up: failed", "rollback: ok", "validation after rollback: ok"]);
        assert.match(report.phases[4].detail, /up attempt 1 failed: the provider returned an error/);
    });

    it("a failed rollback exits 3, loudly, with what to do by hand", async () => {
        const target = await standIn(FIXED, CUT, [2]);
        const report = await runPipeline(target, gate(), options([]));
        assert.equal(report.exitCode, 3);
        assert.equal(report.outcome, "rollback-failed");
        assert.deepEqual(statuses(report).slice(-2), ["propagation: failed", "rollback: failed"]);
        const timeline = renderTimeline(report);
        assert.match(timeline, /!!! ROLLBACK FAILED: the stack needs a person\./);
        assert.match(timeline, /pulumi stack select staging/);
    });

    it("--dry-run stops after the preview and changes nothing", async () => {
        const target = await standIn(CUT, FIXED);
        const report = await runPipeline(target, gate(), options([], { dryRun: true }));
        assert.equal(report.exitCode, 0);
        assert.equal(report.outcome, "dry-run");
        assert.equal(report.phases.length, 2);
        assert.deepEqual(target.appliedConfig, CUT);
    });

    it("stops at the gate on a mandatory violation: exit 2, and the stack is not touched", async () => {
        const target = await standIn(CUT, FIXED);
        const failing = () =>
            Promise.resolve({ ok: false, summary: "35 resources, 1 mandatory violation, 0 advisories" });
        const report = await runPipeline(target, failing, options([]));
        assert.equal(report.exitCode, 2);
        assert.equal(report.outcome, "not-started");
        assert.deepEqual(target.appliedConfig, CUT);
    });

    it("the gate is the real offline preview: a mandatory violation in the stack fails it", async () => {
        const dir = temporaryDir("gate-");
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.staging.yaml"),
            fs
                .readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")
                .replace(/^config:\n/m, "config:\n  websocket-lb:backendTimeoutSec: 30\n"),
        );
        // The program lives in the project; only the stack files differ.
        for (const entry of ["index.ts", "infra", "policies", "node_modules", "package.json", "tsconfig.json"]) {
            fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
        }
        const result = await offlineGate(dir, "staging", PACK_DIR, pack)();
        assert.equal(result.ok, false);
        assert.match(
            result.summary,
            /1 mandatory violation.*enforce-backend-timeout: BackendService "chat-api-backend": timeoutSec is 30/,
        );
    });

    it("runs as the deploy command: timeline, JSON report, exit code, the good commit recorded", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const { repo, commit } = ProgramRepo.create({});
        const reportFile = path.join(temporaryDir("deploy-"), "report.json");
        const progress: string[] = [];
        const code = await main(
            [
                "--stack",
                "staging",
                "--target",
                "local",
                "--local-cut-before",
                "0.5",
                "--local-cut-after",
                "none",
                "--local-program",
                repo.dir,
                "--hold",
                "1",
                "--propagation-timeout",
                "2",
                "--endpoints",
                "/ws",
                "--watch",
                "1",
                "--interval",
                "0.25",
                "--keep",
                "3",
                "--report",
                reportFile,
            ],
            {
                out: (t) => out.push(t),
                err: (t) => err.push(t),
                pack,
                status: (line, final) => final && progress.push(line),
            },
        );
        assert.equal(code, 0, out.join("\n") + err.join("\n"));
        assert.match(out.join("\n"), /DEPLOYED \(exit 0\)/);
        // On a terminal, each phase leaves a progress line with its elapsed time.
        assert.equal(progress.length, 9, progress.join("\n"));
        assert.match(progress[8], /^done record the good commit {2}[\d.]+ s$/);
        assert.match(progress[0], /^done gate: offline preview with the policy pack {2}[\d.]+ s$/);
        const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as PipelineReport;
        assert.equal(report.outcome, "deployed");
        assert.deepEqual(report.phases.map((p) => p.name).slice(7), [
            "watch",
            "zero downtime (measured)",
            "record the good commit",
        ]);
        assert.equal(report.commit, commit);
        assert.match(report.phases[9].detail, new RegExp(`recorded ${commit.slice(0, 12)} as the last good commit`));
        assert.equal(report.zeroDowntime?.keep, 3);
    });

    it("Ctrl-C before up, through the command: exit 130, nothing changed, and it says so", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const { repo } = ProgramRepo.create({});
        const code = await main(
            ["--stack", "staging", "--target", "local", "--local-program", repo.dir, "--endpoints", "/ws"],
            {
                out: (t) => out.push(t),
                err: (t) => err.push(t),
                pack,
                signal: AbortSignal.abort(),
            },
        );
        assert.equal(code, 130, out.join("\n") + err.join("\n"));
        assert.match(out.join("\n"), /INTERRUPTED \(exit 130\)/);
        assert.deepEqual(err, ["interrupted: interrupted before up: nothing was changed"]);
    });

    it("a phase that fails before up: the timeline on stdout, and one error line on stderr naming it", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const { repo } = ProgramRepo.create({});
        // A cut of 0 s is a config the stand-in's preview refuses.
        const code = await main(
            ["--stack", "staging", "--target", "local", "--local-program", repo.dir, "--local-cut-after", "0"],
            { out: (t) => out.push(t), err: (t) => err.push(t), pack },
        );
        assert.equal(code, 2, out.join("\n"));
        assert.match(out.join("\n"), /NOT-STARTED \(exit 2\)/);
        assert.deepEqual(err, [
            "error: deploy of staging did not start, nothing was changed; preview with the policy pack: standin:cutAfterSec is 0; allowed: a positive number of seconds or null",
        ]);
    });

    it("refuses a checkout with uncommitted changes unless --allow-dirty: exit 2, nothing touched", async () => {
        const { repo } = ProgramRepo.create({});
        repo.write({ echo: false });
        const err: string[] = [];
        const io = { out: () => undefined, err: (t: string) => err.push(t), pack };
        assert.equal(await main(["--stack", "staging", "--target", "local", "--local-program", repo.dir], io), 2);
        assert.match(
            err[0],
            /the checkout at .* has uncommitted changes \(stand-in\.json\); a deploy of it could never be rolled back to: commit them, or pass --allow-dirty/,
        );
    });

    it("exits 2 on bad arguments and unknown stacks, before touching anything", async () => {
        const err: string[] = [];
        const io = { out: () => undefined, err: (t: string) => err.push(t) };
        assert.equal(await main(["--target", "local"], io), 2);
        assert.equal(await main(["--stack", "qa", "--target", "local"], io), 2);
        assert.equal(await main(["--stack", "staging", "--target", "moon"], io), 2);
        assert.equal(await main(["--stack", "staging", "--target", "local", "--allow-dirty", "--image", "api"], io), 2);
        assert.equal(
            await main(["--stack", "staging", "--target", "local", "--allow-dirty", "--max-5xx-increase", "lots"], io),
            2,
        );
        assert.match(err[0], /--stack is required/);
        assert.match(err[1], /unknown stack "qa": there is no Pulumi.qa.yaml; stacks here: production, staging/);
        assert.match(err[2], /--target "moon": allowed: pulumi, local/);
        assert.match(err[3], /--image "api": expected NAME=IMAGE/);
        assert.match(err[4], /--max-5xx-increase "lots": expected a non-negative percentage/);
    });

    it("checks output paths, the policy pack and flag spelling before any work: exit 2 with one line", async () => {
        const err: string[] = [];
        const io = { out: () => undefined, err: (t: string) => err.push(t) };
        const local = ["--stack", "staging", "--target", "local", "--hold", "0"];
        assert.equal(await main([...local, "--report", "no-such-dir/report.json"], io), 2);
        assert.equal(await main([...local, "--report-html", "no-such-dir/report.html"], io), 2);
        assert.equal(await main([...local, "--policy-pack", "no-such-pack"], io), 2);
        assert.equal(await main([...local, "--dry-rnu"], io), 2);
        assert.match(err[0], /^error: --report no-such-dir\/report.json: folder no-such-dir does not exist/);
        assert.match(err[1], /^error: --report-html no-such-dir\/report.html: folder no-such-dir does not exist/);
        assert.match(err[2], /^error: --policy-pack no-such-pack: no such folder/);
        assert.match(err[3], /^error: unknown flag --dry-rnu; did you mean --dry-run\?/);
    });
});

describe("deploy: the Automation API target's seams (the real CLI is not on this machine)", () => {
    after(removeTemporaryDirs);
    const snapshot = {
        config: {
            "websocket-lb:backends": {
                value: JSON.stringify({ api: { kind: "instanceGroup" }, auth: { kind: "cloudRun", image: "a:1" } }),
                secret: false,
            },
            "websocket-lb:pagingWebhookToken": { value: "t", secret: true },
        },
        cloudRunRevisions: { auth: "chat-auth-run-00004-xyz" },
    };

    it("restores the saved config with each Cloud Run backend pinned to its previous revision, keeping secrets secret", () => {
        const restored = rollbackConfig(snapshot, "websocket-lb");
        assert.deepEqual(JSON.parse(restored["websocket-lb:backends"].value), {
            api: { kind: "instanceGroup" },
            auth: { kind: "cloudRun", image: "a:1", pinnedRevision: "chat-auth-run-00004-xyz" },
        });
        assert.deepEqual(restored["websocket-lb:pagingWebhookToken"], { value: "t", secret: true });
    });

    it("sets --image on the named backends' config, refusing unknown names and backends without an image", () => {
        const config = withImages(snapshot.config, "websocket-lb", { auth: "a:2" });
        assert.equal(JSON.parse(config["websocket-lb:backends"].value).auth.image, "a:2");
        assert.deepEqual(withImages(snapshot.config, "websocket-lb", {}), snapshot.config);
        assert.throws(
            () => withImages(snapshot.config, "websocket-lb", { web: "w:1" }),
            /--image web=w:1: no backend named web; allowed: api, auth/,
        );
        const groups = { "websocket-lb:backends": { value: JSON.stringify({ g: { kind: "groups" } }), secret: false } };
        assert.throws(
            () => withImages(groups, "websocket-lb", { g: "x:1" }),
            /backend g is of kind groups .*, which has no image/,
        );
    });

    it("turns a config change into field-by-field --path edits, so typed values keep their types", () => {
        assert.deepEqual(
            backendPathEdits(
                snapshot.config,
                withImages(snapshot.config, "websocket-lb", { auth: "a:2" }),
                "websocket-lb",
            ),
            [{ path: "backends.auth.image", value: "a:2" }],
        );
        assert.deepEqual(
            backendPathEdits(snapshot.config, rollbackConfig(snapshot, "websocket-lb"), "websocket-lb").map(
                (e) => e.path,
            ),
            ["backends.auth.pinnedRevision"],
        );
        assert.deepEqual(backendPathEdits(snapshot.config, snapshot.config, "websocket-lb"), []);
    });

    it("finds the wss:// base URL in the stack outputs", () => {
        assert.equal(
            endpointFromOutputs({ websocketUrls: { value: { "chat.example.com": ["wss://chat.example.com/ws"] } } }),
            "wss://chat.example.com",
        );
        assert.equal(endpointFromOutputs({}), undefined);
    });

    it("without the Pulumi CLI, stops before any work (the stack's lock check needs it) with a clear message: exit 2", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(["--stack", "staging", "--hold", "1", "--allow-dirty"], {
            out: (t) => out.push(t),
            err: (t) => err.push(t),
        });
        assert.equal(code, 2);
        const text = out.join("\n");
        assert.match(
            text,
            /stack ready \(no lock, no pending operations\) +failed +[\d.]+ s {2}the Pulumi CLI is needed for Pulumi stack staging \(Automation API\) and was not found/,
        );
        assert.doesNotMatch(text, /gate: offline preview/, "nothing ran before");
        assert.match(err.join("\n"), /^error: deploy of staging did not start, nothing was changed; stack ready/);
    });
});
