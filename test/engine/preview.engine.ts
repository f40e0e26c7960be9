import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runTs } from "../helpers/cli";
import {
    EngineEvent,
    POLICY_PACK,
    requireTools,
    ROOT,
    show,
    steppedResources,
    verdictKey,
    verdicts,
    Workspace,
} from "./harness";

const INCIDENT = path.join(ROOT, "test", "preview", "fixtures", "Pulumi.incident-broken.yaml");

interface OfflineDoc {
    readonly resources: Array<{ type: string; name: string }>;
    readonly diagnostics: Array<{ policy: string; level: string; urn: string }>;
}

/** The offline preview's JSON for the same stack and flags (preview/cli.ts). */
async function offline(args: string[]): Promise<OfflineDoc> {
    const result = await runTs("preview/cli.ts", [...args, "--json"], { timeoutMs: 300_000 });
    assert.ok(
        result.code === 0 || result.code === 1,
        `offline preview ${args.join(" ")} exited ${result.code}\n${result.stderr}`,
    );
    return JSON.parse(result.stdout) as OfflineDoc;
}

function offlineResources(doc: OfflineDoc): string[] {
    return doc.resources.map((r) => `${r.type} ${r.name}`).sort();
}

function offlineVerdicts(doc: OfflineDoc): string[] {
    return [
        ...new Set(
            doc.diagnostics.map((d) => verdictKey({ policy: d.policy, level: d.level, urn: d.urn || undefined })),
        ),
    ].sort();
}

function realVerdicts(events: readonly EngineEvent[]): string[] {
    return [...new Set(verdicts(events).map(verdictKey))].sort();
}

/** The --policy-pack-config example of docs/policies.md (which the README is written from), taken from the page itself. */
function documentedPolicyConfig(dir: string): string {
    const page = fs.readFileSync(path.join(ROOT, "docs", "policies.md"), "utf8");
    const match = /cat > policy-config\.json <<'JSON'\n([\s\S]*?)\nJSON\n/.exec(page);
    assert.ok(match, "docs/policies.md has no `cat > policy-config.json <<'JSON'` example");
    const file = path.join(dir, "policy-config.json");
    fs.writeFileSync(file, match[1]);
    return file;
}

describe("engine: pulumi preview --policy-pack policies (real CLI, gcp stand-in)", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.create("preview", {
            staging: path.join(ROOT, "Pulumi.staging.yaml"),
            production: path.join(ROOT, "Pulumi.production.yaml"),
            incident: INCIDENT,
            fresh: path.join(ROOT, "Pulumi.staging.yaml"),
        });
        await ws.initStacks(["staging", "production", "incident", "fresh"]);
    });

    after(() => ws?.remove());

    for (const stack of ["staging", "production"]) {
        it(`${stack}: exit 0, the pack loaded by the CLI, no mandatory violation, and the offline preview's resources and verdicts`, async () => {
            const [real, off] = [
                await ws.previewWithEvents(["--stack", stack, "--policy-pack", POLICY_PACK]),
                await offline(["--stack", stack]),
            ];
            assert.equal(real.code, 0, show(real));
            assert.ok(
                real.events.some((e) => e.policyLoadEvent !== undefined),
                "no policyLoadEvent: the CLI did not load a pack",
            );
            const packs = new Set(
                real.events.flatMap((e) =>
                    e.policyAnalyzeSummaryEvent ? [e.policyAnalyzeSummaryEvent.policyPackName] : [],
                ),
            );
            assert.deepEqual([...packs], ["websocket-lb-policies"]);
            assert.deepEqual(
                verdicts(real.events).filter((v) => v.level === "mandatory"),
                [],
            );

            const resources = steppedResources(real.events);
            assert.equal(resources.length, off.resources.length, "resource count differs from the offline preview");
            assert.deepEqual(resources, offlineResources(off));
            assert.deepEqual(realVerdicts(real.events), offlineVerdicts(off));
        });
    }

    it("a brand-new stack with websocketTimeoutSec 30: the CLI fails the preview naming enforce-websocket-lifetime on the route, with no can't-run note", async () => {
        const human = await ws.pulumi([
            "preview",
            "--stack",
            "fresh",
            "--config",
            "websocket-lb:websocketTimeoutSec=30",
            "--policy-pack",
            POLICY_PACK,
        ]);
        assert.notEqual(human.code, 0, show(human));
        assert.match(human.stdout, /\[mandatory\] \[severity: critical\]\s+enforce-websocket-lifetime/, show(human));
        assert.match(
            human.stdout,
            /URLMap "chat-https": pathMatchers\[0\]\.pathRules\[0\] \(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: routeAction\.timeout is 30 s/,
        );
        assert.doesNotMatch(human.stdout + human.stderr, /can't run/);
        assert.match(human.stdout + human.stderr, /preview failed/);
    });

    it("the incident report's broken settings: the CLI fails the preview naming enforce-backend-timeout and enforce-session-affinity", async () => {
        const human = await ws.pulumi(["preview", "--stack", "incident", "--policy-pack", POLICY_PACK]);
        assert.notEqual(human.code, 0, show(human));
        assert.match(
            human.stdout,
            /\[mandatory\] \[severity: critical\]\s+enforce-backend-timeout\s+\(gcp:compute:BackendService: chat-api-backend\)/,
            show(human),
        );
        assert.match(
            human.stdout,
            /\[mandatory\] \[severity: high\]\s+enforce-session-affinity\s+\(gcp:compute:BackendService: chat-api-backend\)/,
        );
        assert.match(human.stdout, /timeoutSec is 30; required: at least 86400/);
        assert.match(human.stdout + human.stderr, /preview failed/);
    });

    it("the incident report's broken settings: the same resources and verdicts as the offline preview", async () => {
        const [real, off] = [
            await ws.previewWithEvents(["--stack", "incident", "--policy-pack", POLICY_PACK]),
            await offline(["--stack", "incident", "--stack-file", INCIDENT]),
        ];
        assert.notEqual(real.code, 0, show(real));
        assert.deepEqual(steppedResources(real.events), offlineResources(off));
        assert.deepEqual(realVerdicts(real.events), offlineVerdicts(off));
        assert.ok(realVerdicts(real.events).includes("mandatory enforce-backend-timeout chat-api-backend"));
        assert.ok(realVerdicts(real.events).includes("mandatory enforce-session-affinity chat-api-backend"));
    });

    it("--config backendTimeoutSec=30 fails naming enforce-backend-timeout; the documented --policy-pack-config remediates it instead", async () => {
        const flags = ["--stack", "staging", "--config", "websocket-lb:backendTimeoutSec=30"];
        const broken = await ws.previewWithEvents([...flags, "--policy-pack", POLICY_PACK]);
        assert.notEqual(broken.code, 0, show(broken));
        assert.deepEqual(
            realVerdicts(broken.events).filter((v) => v.startsWith("mandatory")),
            ["mandatory enforce-backend-timeout chat-api-backend"],
        );
        assert.deepEqual(
            realVerdicts(broken.events),
            offlineVerdicts(await offline(["--stack", "staging", "--config", "backendTimeoutSec=30"])),
        );

        // docs/policies.md: enforce-backend-timeout at "remediate" sets timeoutSec to 86400 instead of failing.
        const config = documentedPolicyConfig(ws.root);
        const fixed = await ws.previewWithEvents([
            ...flags,
            "--policy-pack",
            POLICY_PACK,
            "--policy-pack-config",
            config,
        ]);
        assert.equal(fixed.code, 0, show(fixed));
        const remediation = fixed.events.find(
            (e) => e.policyRemediationEvent?.policyName === "enforce-backend-timeout",
        )?.policyRemediationEvent;
        assert.ok(remediation, "no remediation event for enforce-backend-timeout");
        assert.equal(remediation.before?.timeoutSec, 30);
        assert.equal(remediation.after?.timeoutSec, 86400);
        assert.deepEqual(
            verdicts(fixed.events).filter((v) => v.level === "mandatory"),
            [],
        );
        assert.deepEqual(
            realVerdicts(fixed.events),
            offlineVerdicts(
                await offline([
                    "--stack",
                    "staging",
                    "--config",
                    "backendTimeoutSec=30",
                    "--policy-pack-config",
                    config,
                ]),
            ),
        );
    });
});
