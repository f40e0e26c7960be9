import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningPack } from "../../preview";
import { main } from "../../deploy/cli";
import { offlineGate } from "../../deploy/gate";
import { PipelineOptions, PipelineReport, renderTimeline, runPipeline } from "../../deploy/pipeline";
import { endpointFromOutputs, keysToRemove, rollbackConfig } from "../../deploy/targets/automation";
import { LocalStandIn, StandInConfig } from "../../deploy/targets/stand-in";
import { thresholdsFrom } from "../../validator";
import { ROOT } from "../helpers/cli";

const PACK_DIR = path.join(ROOT, "policies");

/** Short holds: the stand-in's "before the fix" cut is 0.5 s, and validation holds 1 s. */
function options(log: string[], overrides: Partial<PipelineOptions> = {}): PipelineOptions {
    return {
        stack: "staging",
        dryRun: false,
        propagationTimeoutSec: 2,
        validation: {
            endpoints: ["/ws"],
            thresholds: thresholdsFrom([]),
            handshakeTimeoutMs: 2000,
            messages: 3,
            echo: true,
            messageTimeoutMs: 1000,
            holdSec: 1,
            holdMode: "both",
            pingIntervalSec: 0.2,
        },
        log: (line) => log.push(line),
        ...overrides,
    };
}

const CUT: StandInConfig = { cutAfterSec: 0.5 };
const FIXED: StandInConfig = { cutAfterSec: null };
const statuses = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);

describe("deploy: the pipeline against the local stand-in (real validator, real sockets)", function () {
    this.timeout(60_000);
    let pack: RunningPack;
    const standIns: LocalStandIn[] = [];
    const gate = () => offlineGate(ROOT, "staging", PACK_DIR, pack);
    const standIn = async (applied: StandInConfig, desired: StandInConfig, failUps?: number[]) => {
        const s = await LocalStandIn.start({ applied, desired, failUps });
        standIns.push(s);
        return s;
    };

    before(async () => {
        // One pack serves every gate here; each deploy still runs the program and the analysis.
        pack = await RunningPack.start(PACK_DIR).ready;
    });
    after(async () => {
        pack.stop();
        await Promise.all(standIns.map((s) => s.stop()));
    });

    it("a good deploy (the 30 s cut fixed) passes: exit 0, with the baseline showing the cut it fixed, then monitors", async () => {
        const target = await standIn(CUT, FIXED);
        const log: string[] = [];
        const report = await runPipeline(target, gate(), options(log, { monitor: { intervalSec: 0.2, durationSec: 0.5 } }));
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
            "monitor: ok",
        ]);
        assert.ok(log.filter((l) => /^\d{4}-\d\d-\d\dT.* \/ws +ok +handshake/.test(l)).length >= 2, "monitor status lines");
        assert.equal(report.validations.baseline.endpoints[0].diagnosis, "lifetime-cap");
        assert.equal(report.validations["post-deploy"].verdict, "pass");
        assert.deepEqual(target.appliedConfig, FIXED);
        assert.match(renderTimeline(report), /^deploy staging to local stand-in .*: DEPLOYED \(exit 0\)\n {2}gate: offline preview with the policy pack +ok +\d+\.\d s {2}\d+ resources, 0 mandatory violations/);
    });

    it("a deploy whose validation fails is rolled back, and the rollback is validated: exit 1", async () => {
        const target = await standIn(FIXED, CUT);
        const report = await runPipeline(target, gate(), options([], { propagationTimeoutSec: 3 }));
        assert.equal(report.exitCode, 1, renderTimeline(report));
        assert.equal(report.outcome, "rolled-back");
        assert.deepEqual(statuses(report).slice(4), ["up: ok", "propagation: failed", "rollback: ok", "validation after rollback: ok"]);
        assert.match(report.phases.find((p) => p.name === "propagation")!.detail, /still failing after \d+ attempts and 3 s: FAIL: \d+ failures \(CUT_BEFORE_HOLD\)/);
        assert.ok(Object.keys(report.validations).filter((k) => k.startsWith("propagation-")).length >= 2, "re-validated with backoff, not once");
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
        const failing = async () => ({ ok: false, summary: "35 resources, 1 mandatory violation, 0 advisories" });
        const report = await runPipeline(target, failing, options([]));
        assert.equal(report.exitCode, 2);
        assert.equal(report.outcome, "not-started");
        assert.deepEqual(target.appliedConfig, CUT);
    });

    it("the gate is the real offline preview: a mandatory violation in the stack fails it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gate-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8").replace(/^config:\n/m, "config:\n  websocket-lb:backendTimeoutSec: 30\n"));
        // The program lives in the project; only the stack files differ.
        for (const entry of ["index.ts", "infra", "policies", "node_modules", "package.json", "tsconfig.json"]) {
            fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
        }
        const result = await offlineGate(dir, "staging", PACK_DIR, pack)();
        assert.equal(result.ok, false);
        assert.match(result.summary, /1 mandatory violation.*enforce-backend-timeout: BackendService "chat-api-backend": timeoutSec is 30/);
    });

    it("runs as the deploy command: timeline, JSON report, exit code", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "deploy-")), "report.json");
        const code = await main(
            ["--stack", "staging", "--target", "local", "--local-cut-before", "0.5", "--local-cut-after", "none", "--hold", "1", "--propagation-timeout", "2", "--endpoints", "/ws", "--report", reportFile],
            { out: (t) => out.push(t), err: (t) => err.push(t), pack },
        );
        assert.equal(code, 0, out.join("\n") + err.join("\n"));
        assert.match(out.join("\n"), /DEPLOYED \(exit 0\)/);
        const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as PipelineReport;
        assert.equal(report.outcome, "deployed");
        assert.equal(report.phases.length, 7);
    });

    it("exits 2 on bad arguments and unknown stacks, before touching anything", async () => {
        const err: string[] = [];
        const io = { out: () => undefined, err: (t: string) => err.push(t) };
        assert.equal(await main(["--target", "local"], io), 2);
        assert.equal(await main(["--stack", "qa", "--target", "local"], io), 2);
        assert.equal(await main(["--stack", "staging", "--target", "moon"], io), 2);
        assert.match(err[0], /--stack is required/);
        assert.match(err[1], /unknown stack "qa": there is no Pulumi.qa.yaml; stacks here: production, staging/);
        assert.match(err[2], /--target "moon": allowed: pulumi, local/);
    });
});

describe("deploy: the Automation API target's seams (the real CLI is not on this machine)", () => {
    const snapshot = {
        config: {
            "websocket-lb:backends": { value: JSON.stringify({ api: { kind: "instanceGroup" }, auth: { kind: "cloudRun", image: "a:1" } }), secret: false },
            "websocket-lb:pagingWebhookToken": { value: "t", secret: true },
        },
        cloudRunRevisions: { auth: "chat-auth-run-00004-xyz" },
    };

    it("restores the saved config with each Cloud Run backend pinned to its previous revision, keeping secrets secret", () => {
        const restored = rollbackConfig(snapshot, "websocket-lb");
        assert.deepEqual(JSON.parse(restored["websocket-lb:backends"].value), { api: { kind: "instanceGroup" }, auth: { kind: "cloudRun", image: "a:1", pinnedRevision: "chat-auth-run-00004-xyz" } });
        assert.deepEqual(restored["websocket-lb:pagingWebhookToken"], { value: "t", secret: true });
    });

    it("removes config keys the failed deploy added", () => {
        assert.deepEqual(keysToRemove({ "websocket-lb:backends": {}, "websocket-lb:alert5xxPercent": {} }, { ...snapshot, cloudRunRevisions: {} }), ["websocket-lb:alert5xxPercent"]);
    });

    it("finds the wss:// base URL in the stack outputs", () => {
        assert.equal(endpointFromOutputs({ websocketUrls: { value: { "chat.example.com": ["wss://chat.example.com/ws"] } } }), "wss://chat.example.com");
        assert.equal(endpointFromOutputs({}), undefined);
    });

    it("without the Pulumi CLI, runs the gate, then stops at the preview with a clear message: exit 2", async function () {
        this.timeout(60_000);
        const out: string[] = [];
        const pack = await RunningPack.start(PACK_DIR).ready;
        const code = await main(["--stack", "staging", "--hold", "1"], { out: (t) => out.push(t), err: () => undefined, pack }).finally(() => pack.stop());
        assert.equal(code, 2);
        const text = out.join("\n");
        assert.match(text, /gate: offline preview with the policy pack +ok/);
        assert.match(text, /preview with the policy pack +failed +[\d.]+ s {2}the Pulumi CLI is needed for Pulumi stack staging \(Automation API\) and was not found/);
    });
});
