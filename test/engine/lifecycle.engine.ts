import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { readLoadTestOutputs } from "../../load/stack";
import { resolveEnvironment } from "../../validator/core/targets";
import { POLICY_PACK, requireTools, ROOT, show, Workspace } from "./harness";

interface Outputs {
    ipAddress?: string;
    websocketUrls?: Record<string, string[]>;
    backendServiceNames?: Record<string, string>;
    urlMapName?: string;
    cloudRunRevisions?: Record<string, string>;
}

describe("engine: pulumi up, stack output, up again, destroy on staging (real CLI, gcp stand-in)", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.create("lifecycle", { staging: path.join(ROOT, "Pulumi.staging.yaml") });
        await ws.initStacks(["staging"]);
    });

    after(() => ws?.remove());

    it("pulumi up --yes with the pack creates every resource; the pack passes at update too", async () => {
        const up = await ws.pulumi(["up", "--yes", "--stack", "staging", "--policy-pack", POLICY_PACK]);
        assert.equal(up.code, 0, show(up));
        assert.match(up.stdout, /\+ 54 created/);
        assert.match(up.stdout, /websocket-lb-policies@v0\.1\.0 \(local: .*policies\)/);
        // 52 custom resources exist in the pretend cloud (the stack and the component are not in it).
        assert.equal(Object.keys(ws.cloud()).length, 52);
    });

    it("pulumi stack output --json has what the README and the validator read", async () => {
        const result = await ws.pulumi(["stack", "output", "--json", "--stack", "staging"]);
        assert.equal(result.code, 0, show(result));
        const outputs = JSON.parse(result.stdout) as Outputs;
        assert.match(outputs.ipAddress ?? "", /^203\.0\.113\.\d+$/);
        assert.deepEqual(outputs.websocketUrls, {
            "staging.chat.example.com": ["/ws", "/ws/*", "/websocket", "/websocket/*"].map(
                (p) => `wss://staging.chat.example.com${p}`,
            ),
        });
        assert.deepEqual(Object.keys(outputs.backendServiceNames ?? {}).sort(), ["api", "auth", "frontend"]);
        for (const name of Object.values(outputs.backendServiceNames ?? {})) {
            assert.match(name, /^chat-(api|auth|frontend)-backend-[0-9a-f]{7}$/);
        }
        assert.match(outputs.urlMapName ?? "", /^chat-https-[0-9a-f]{7}$/);
        assert.deepEqual(Object.keys(outputs.cloudRunRevisions ?? {}).sort(), ["auth", "frontend"]);
        for (const revision of Object.values(outputs.cloudRunRevisions ?? {})) {
            assert.match(revision, /-00001-[0-9a-f]{3}$/);
        }

        // The validator takes its target from this file (validator --stack-outputs).
        const file = path.join(ws.root, "staging-outputs.json");
        fs.writeFileSync(file, result.stdout);
        assert.equal(resolveEnvironment("staging", file).url, "wss://staging.chat.example.com");
        // Without loadTest there is no load job: npm run load stops before anything runs.
        await assert.rejects(readLoadTestOutputs("staging", file), /stack staging has no load job/);
    });

    it("a second pulumi up changes nothing (--expect-no-changes)", async () => {
        const up = await ws.pulumi([
            "up",
            "--yes",
            "--expect-no-changes",
            "--stack",
            "staging",
            "--policy-pack",
            POLICY_PACK,
        ]);
        assert.equal(up.code, 0, show(up));
        assert.match(up.stdout, /54 unchanged/);
    });

    it("pulumi destroy --yes deletes everything it created", async () => {
        const destroy = await ws.pulumi(["destroy", "--yes", "--stack", "staging"]);
        assert.equal(destroy.code, 0, show(destroy));
        assert.match(destroy.stdout, /- 54 deleted/);
        assert.deepEqual(ws.cloud(), {});
    });
});

describe("engine: a first pulumi up of the production stack, paging by team (real CLI, gcp stand-in)", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.create("production", { production: path.join(ROOT, "Pulumi.production.yaml") });
        await ws.initStacks(["production"]);
    });

    after(() => ws?.remove());

    it("pulumi up --yes with the pack and the PagerDuty key creates every resource the stand-in's Google rules accept", async () => {
        const key = await ws.pulumi([
            "config",
            "set",
            "--secret",
            "--stack",
            "production",
            "pagerDutyServiceKeys",
            JSON.stringify({ operations: "engine-tier-pagerduty-key" }),
        ]);
        assert.equal(key.code, 0, show(key));
        const up = await ws.pulumi(["up", "--yes", "--stack", "production", "--policy-pack", POLICY_PACK]);
        assert.equal(up.code, 0, show(up));
        assert.match(up.stdout, /\+ 61 created/);
        const types = Object.values(ws.cloud());
        assert.equal(types.length, 59);
        assert.equal(types.filter((t) => t === "gcp:monitoring/notificationChannel:NotificationChannel").length, 6);
        assert.equal(types.filter((t) => t === "gcp:pubsub/topic:Topic").length, 1);
    });
});

describe("engine: the gcp stand-in refuses what the Google APIs refuse, and the pack stops it at preview", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.fromFixture("refusals", path.join(__dirname, "fixtures", "api-refusals"), {});
        await ws.initStacks(["refusals"]);
    });

    after(() => ws?.remove());

    it("pulumi up without the pack fails on each refused resource, with the API's reason", async () => {
        const up = await ws.pulumi(["up", "--yes", "--skip-preview", "--continue-on-error", "--stack", "refusals"]);
        assert.notEqual(up.code, 0, show(up));
        const out = up.stdout + up.stderr;
        assert.match(out, /Timeout sec is not supported for a backend service with Serverless network endpoint groups/);
        assert.match(out, /Header 'Connection' cannot be set as a custom header/);
        assert.match(out, /Header 'Upgrade' cannot be set as a custom header/);
        assert.match(out, /not supported by the classic load balancing scheme EXTERNAL/);
        const created = Object.values(ws.cloud());
        assert.ok(!created.includes("gcp:compute/uRLMap:URLMap"), "the classic URL map was created");
        assert.equal(
            created.filter((t) => t === "gcp:compute/backendService:BackendService").length,
            1,
            "only the classic backend service is valid",
        );
    });

    it("pulumi preview with the pack fails first, naming the policies for each of them", async () => {
        const preview = await ws.pulumi(["preview", "--stack", "refusals", "--policy-pack", POLICY_PACK]);
        assert.notEqual(preview.code, 0, show(preview));
        for (const policy of [
            "enforce-serverless-backend-limits",
            "disallow-invalid-custom-headers",
            "disallow-classic-advanced-routing",
        ]) {
            assert.match(
                preview.stdout,
                new RegExp(`\\[mandatory\\].*\\s${policy}\\s`),
                `${policy} not reported\n${show(preview)}`,
            );
        }
    });
});

describe("engine: the load job on staging (loadTest on), up, its outputs for npm run load, destroy (real CLI, gcp stand-in)", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.create("load-test", { staging: path.join(ROOT, "Pulumi.staging.yaml") });
        await ws.initStacks(["staging"]);
    });

    after(() => ws?.remove());

    it("pulumi up --yes with the pack creates the job, its account, its bucket and the account's grant too", async () => {
        const set = await ws.pulumi([
            "config",
            "set",
            "--stack",
            "staging",
            "loadTest",
            JSON.stringify({ image: "us-docker.pkg.dev/example-chat-staging/tools/ws-validate:1" }),
        ]);
        assert.equal(set.code, 0, show(set));
        const up = await ws.pulumi(["up", "--yes", "--stack", "staging", "--policy-pack", POLICY_PACK]);
        assert.equal(up.code, 0, show(up));
        // The 54 of staging, and the job, its service account, its bucket and the bucket grant.
        assert.match(up.stdout, /\+ 58 created/);
        const types = Object.values(ws.cloud());
        assert.equal(types.length, 56);
        assert.equal(types.filter((t) => t === "gcp:cloudrunv2/job:Job").length, 1);
        assert.equal(types.filter((t) => t === "gcp:storage/bucketIAMMember:BucketIAMMember").length, 1);
    });

    it("pulumi stack output --json names the job, its region and its bucket as npm run load reads them", async () => {
        const result = await ws.pulumi(["stack", "output", "--json", "--stack", "staging"]);
        assert.equal(result.code, 0, show(result));
        const file = path.join(ws.root, "staging-outputs.json");
        fs.writeFileSync(file, result.stdout);
        const target = await readLoadTestOutputs("staging", file);
        assert.equal(target.project, "example-chat-staging");
        assert.equal(target.region, "us-central1");
        assert.match(
            target.job,
            /^projects\/example-chat-staging\/locations\/us-central1\/jobs\/chat-load-[0-9a-f]{7}$/,
        );
        assert.match(target.bucket, /^chat-load-shards-[0-9a-f]{7}$/);
        assert.ok(ws.cloud()[target.job], `the job ${target.job} is in the stand-in's cloud`);
    });

    it("pulumi destroy --yes deletes the job with the rest (deletionProtection follows the stack's)", async () => {
        const destroy = await ws.pulumi(["destroy", "--yes", "--stack", "staging"]);
        assert.equal(destroy.code, 0, show(destroy));
        assert.match(destroy.stdout, /- 58 deleted/);
        assert.deepEqual(ws.cloud(), {});
    });
});
