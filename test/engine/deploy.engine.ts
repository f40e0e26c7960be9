import * as assert from "assert";
import * as path from "path";
import { offlineGate } from "../../deploy/gate";
import { PipelineOptions, PipelineReport, runPipeline } from "../../deploy/pipeline";
import { PulumiStackTarget } from "../../deploy/targets/automation";
import { WATCH_DEFAULTS } from "../../deploy/watch";
import { thresholdsFrom, VALIDATION_DEFAULTS } from "../../validator";
import { show, Workspace } from "./harness";
import { API_IMAGE, HOST, servedApiImage, stagingBehindLoadBalancer } from "./local-lb";

interface ExportedResource {
    readonly urn: string;
    readonly type: string;
    readonly inputs?: Record<string, unknown>;
    readonly outputs?: Record<string, unknown>;
}

function resourcesOf(exported: string): ExportedResource[] {
    return (JSON.parse(exported) as { deployment: { resources: ExportedResource[] } }).deployment.resources;
}

/**
 * Each resource's inputs by URN, from `pulumi stack export`: what "the stack's state" means here.
 * Cloud Run traffic is left out: a rollback pins it on purpose, checked on its own.
 */
function inputsByUrn(exported: string): Record<string, unknown> {
    return Object.fromEntries(
        resourcesOf(exported).map((r) => {
            const { traffics: _pinnedOnPurpose, ...rest } = r.inputs ?? {};
            return [r.urn, r.type === "gcp:cloudrunv2/service:Service" ? rest : (r.inputs ?? {})];
        }),
    );
}

describe("engine: the deploy pipeline's pulumi target (Automation API) on a local backend", function () {
    this.timeout(2_400_000);
    const deployed = stagingBehindLoadBalancer("deploy");
    let ws: Workspace;
    let ca: Buffer;
    const log: string[] = [];

    before(() => ({ ws, cert: ca } = deployed()));

    function options(image: string): PipelineOptions {
        return {
            stack: "staging",
            dryRun: false,
            propagationTimeoutSec: 3,
            validation: {
                ...VALIDATION_DEFAULTS,
                endpoints: ["/ws"],
                messages: 2,
                holdSec: 1,
                // The stack's real output URL (wss://staging.chat.example.com/ws), reached on loopback.
                resolve: [{ host: HOST, port: 443, address: "127.0.0.1" }],
                ca,
                // Bars a loaded 2-core machine keeps; this test is about the pipeline, not latency.
                thresholds: thresholdsFrom(["handshake_p95_ms<20000", "message_latency_p95_ms<10000"]),
            },
            watch: { ...WATCH_DEFAULTS, durationSec: 0 },
            keep: { connections: 0, probeIntervalMs: 1000 },
            change: { images: { api: `${API_IMAGE}:${image}` } },
            log: (line) => log.push(line),
        };
    }

    function target(): PulumiStackTarget {
        return new PulumiStackTarget({
            projectDir: ws.dir,
            stack: "staging",
            project: "websocket-lb",
            packDir: path.join(ws.dir, "policies"),
            log: (line) => log.push(line),
        });
    }

    const gate = () => offlineGate(ws.dir, "staging", path.join(ws.dir, "policies"));
    const phases = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);

    it("deploys a good image: gate, preview with the pack, snapshot, up, validation through the stack's own URL", async () => {
        const report = await runPipeline(target(), gate(), options("1.4.3"));
        assert.equal(report.outcome, "deployed", `${phases(report).join("\n")}\n${log.slice(-40).join("\n")}`);
        assert.equal(report.exitCode, 0);
        for (const name of [
            "gate: offline preview with the policy pack",
            "preview with the policy pack",
            "snapshot for rollback",
            "up",
            "post-deploy validation",
        ]) {
            assert.ok(phases(report).includes(`${name}: ok`), `${name} in ${phases(report).join(", ")}`);
        }
        assert.equal(servedApiImage(ws.cloudFile), `${API_IMAGE}:1.4.3`);
        assert.equal(report.validations["post-deploy"].target.url, `wss://${HOST}`);
    });

    it("rolls back a broken image, and the stack is really back in its previous state (pulumi stack export)", async () => {
        const before = await ws.pulumi(["stack", "export", "--stack", "staging"]);
        assert.equal(before.code, 0, show(before));

        const report = await runPipeline(target(), gate(), options("broken"));
        assert.equal(report.outcome, "rolled-back", `${phases(report).join("\n")}\n${log.slice(-40).join("\n")}`);
        assert.equal(report.exitCode, 1);
        assert.ok(phases(report).includes("up: ok"), phases(report).join(", "));
        assert.ok(phases(report).includes("rollback: ok"), phases(report).join(", "));
        assert.ok(phases(report).includes("validation after rollback: ok"), phases(report).join(", "));
        // While the broken image served, the validator saw the load balancer's 502.
        const failed = Object.entries(report.validations).filter(([key]) => key.startsWith("propagation"));
        assert.ok(
            failed.some(([, r]) => r.failures.some((f) => f.code === "HANDSHAKE_REFUSED" && f.evidence.status === 502)),
            "the broken image was seen",
        );

        const after = await ws.pulumi(["stack", "export", "--stack", "staging"]);
        assert.equal(after.code, 0, show(after));
        assert.deepStrictEqual(inputsByUrn(after.stdout), inputsByUrn(before.stdout));
        // And each Cloud Run backend is pinned to the revision that served before the deploy.
        const servedBefore = Object.fromEntries(
            resourcesOf(before.stdout)
                .filter((r) => r.type === "gcp:cloudrunv2/service:Service")
                .map((r) => [r.urn, r.outputs?.latestReadyRevision]),
        );
        const services = resourcesOf(after.stdout).filter((r) => r.type === "gcp:cloudrunv2/service:Service");
        assert.ok(services.length > 0);
        for (const service of services) {
            assert.deepStrictEqual(
                service.inputs?.traffics,
                [
                    {
                        percent: 100,
                        revision: servedBefore[service.urn],
                        type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                    },
                ],
                service.urn,
            );
        }
        assert.equal(servedApiImage(ws.cloudFile), `${API_IMAGE}:1.4.3`);
    });
});
