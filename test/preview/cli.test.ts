import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CliResult, ROOT, runPreview } from "../helpers/cli";

const preview = (...args: string[]) => runPreview(args);
const SEED = path.join(__dirname, "fixtures", "Pulumi.seed-broken.yaml");

/** A scratch folder inside the project, so a copied pack still finds the root node_modules. */
function scratch(name: string): string {
    const dir = path.join(ROOT, ".tmp", `${name}-${process.pid}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

function copyPack(): string {
    const dir = scratch("pack");
    // With its build, times kept: a copy whose sources are left alone needs no rebuild.
    for (const entry of ["PulumiPolicy.yaml", "package.json", "tsconfig.json", "index.ts", "policies.ts", "lib", "rules", "bin"]) {
        fs.cpSync(path.join(ROOT, "policies", entry), path.join(dir, entry), { recursive: true, preserveTimestamps: true });
    }
    return dir;
}

function diagnostics(result: CliResult): Array<{ policy: string; level: string }> {
    return (JSON.parse(result.stdout) as { diagnostics: Array<{ policy: string; level: string }> }).diagnostics;
}

describe("preview: offline preview (the real command, the real pack in its own process)", function () {
    this.timeout(90_000);
    // The expensive runs go in parallel, two at a time (one per core), before the assertions.
    const runs: Record<string, Promise<CliResult>> = {};
    let brokenPack: string;
    let advisoryPack: string;

    before(() => {
        brokenPack = copyPack();
        fs.writeFileSync(path.join(brokenPack, "bin", "index.js"), 'throw new Error("pack exploded at load");\n');
        advisoryPack = copyPack();
        const rule = path.join(advisoryPack, "rules", "enforce-backend-timeout.ts");
        // Its build is now older than its sources, so the preview rebuilds it before starting it.
        fs.writeFileSync(rule, fs.readFileSync(rule, "utf8").replace('enforcementLevel: "mandatory"', 'enforcementLevel: "advisory"'));
        const configFile = path.join(scratch("config"), "policy-config.json");
        fs.writeFileSync(configFile, JSON.stringify({ "enforce-connection-draining": "disabled", "enforce-websocket-lifetime": { minTimeoutSec: 20 } }));

        const queue: Array<[string, () => Promise<CliResult>]> = [
            ["staging", () => preview("--stack", "staging")],
            ["production", () => preview("--stack", "production")],
            ["seed", () => preview("--stack", "seed", "--stack-file", SEED, "--json")],
            ["json", () => preview("--stack", "staging", "--config", "backendTimeoutSec=30", "--config", "connectionDrainingTimeoutSec=0", "--json")],
            ["human", () => preview("--stack", "staging", "--config", "websocket-lb:backendTimeoutSec=30", "--config", "connectionDrainingTimeoutSec=0")],
            ["brokenPack", () => preview("--stack", "staging", "--policy-pack", brokenPack)],
            // One run, two proofs: the copied pack's changed level, and the config file's settings.
            [
                "advisoryPack",
                () =>
                    preview("--stack", "staging", "--config", "backendTimeoutSec=30", "--config", "connectionDrainingTimeoutSec=0", "--config", "websocketTimeoutSec=30",
                        "--policy-pack", advisoryPack, "--policy-pack-config", configFile, "--json"),
            ],
        ];
        const next = async (): Promise<void> => {
            const item = queue.shift();
            if (!item) {
                return;
            }
            const [name, start] = item;
            runs[name] = start();
            await runs[name].catch(() => undefined);
            return next();
        };
        return Promise.all([next(), next()]);
    });

    after(() => {
        fs.rmSync(path.join(ROOT, ".tmp"), { recursive: true, force: true });
    });

    for (const stack of ["staging", "production"]) {
        it(`passes the ${stack} stack: exit 0, the tree with WebSocket settings, and a summary`, async () => {
            const result = await runs[stack];
            assert.equal(result.code, 0, result.stderr);
            assert.match(result.stdout, /gcp:compute\/backendService:BackendService\s+chat-api-backend {2}\[timeout 86400s, affinity GENERATED_COOKIE, ttl 86400s/);
            assert.match(result.stdout, /chat-https {2}\[\/ws,\/ws\/\*,\/websocket,\/websocket\/\* \(route timeout 86400s\)/);
            assert.match(result.stdout, new RegExp(`Summary: ${stack === "staging" ? 35 : 37} resources, 0 mandatory violations, 0 advisories`));
        });
    }

    it("exits 1 naming enforce-backend-timeout when the backend timeout is set to 30", async () => {
        const result = await runs.human;
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /\[mandatory\] enforce-backend-timeout {2}BackendService chat-api-backend/);
        assert.match(result.stdout, /timeoutSec is 30; required: at least 86400/);
    });

    it("exits 1 on the seed's broken settings with each expected policy", async () => {
        const result = await runs.seed;
        assert.equal(result.code, 1, result.stderr);
        const found = diagnostics(result).map((d) => `${d.level} ${d.policy}`).sort();
        assert.deepEqual(found, [
            "advisory enforce-connection-draining",
            "mandatory enforce-backend-timeout",
            "mandatory enforce-session-affinity",
            "mandatory enforce-websocket-lifetime",
        ]);
    });

    it("--json parses and agrees with the human report's counts", async () => {
        const [json, human] = [await runs.json, await runs.human];
        assert.equal(json.code, 1);
        assert.equal(human.code, 1);
        const doc = JSON.parse(json.stdout) as { summary: { resources: number; mandatory: number; advisory: number }; resources: unknown[]; diagnostics: Array<{ level: string }> };
        assert.deepEqual(doc.summary, { resources: 35, mandatory: 1, advisory: 1 });
        assert.equal(doc.resources.length, doc.summary.resources);
        assert.equal(doc.diagnostics.filter((d) => d.level === "mandatory").length, doc.summary.mandatory);
        assert.match(human.stdout, /Summary: 35 resources, 1 mandatory violation, 1 advisory$/m);
        assert.equal((human.stdout.match(/^ {4}\[mandatory\]/gm) ?? []).length, doc.summary.mandatory);
        assert.equal((human.stdout.match(/^ {4}\[advisory\]/gm) ?? []).length, doc.summary.advisory);
    });

    it("runs the analyzer out of process: a copied pack with the rule made advisory changes the verdict", async () => {
        const result = await runs.advisoryPack;
        assert.equal(result.code, 0, result.stderr);
        const timeout = diagnostics(result).filter((d) => d.policy === "enforce-backend-timeout");
        assert.deepEqual(timeout.map((d) => d.level), ["advisory"]);
    });

    it("passes --policy-pack-config levels and settings to the pack", async () => {
        const result = await runs.advisoryPack;
        // Draining 0 would be an advisory, but the file disables the policy; a 30 s route passes
        // a 20 s minimum set in the file.
        assert.deepEqual(diagnostics(result).map((d) => d.policy), ["enforce-backend-timeout"]);
    });

    it("exits 2 with the pack's own error when the pack fails to start, and no stack trace of ours", async () => {
        const result = await runs.brokenPack;
        assert.equal(result.code, 2);
        assert.match(result.stderr, /error: policy pack .* failed to start \(exit code \d+\)/);
        assert.match(result.stderr, /pack exploded at load/);
        assert.doesNotMatch(result.stderr, /at previewOffline|at RunningPack/);
    });

    it("exits 2 on an unknown stack, listing the stacks that exist", async () => {
        const result = await preview("--stack", "qa");
        assert.equal(result.code, 2);
        assert.equal(result.stderr.trim(), 'error: unknown stack "qa": there is no Pulumi.qa.yaml; stacks here: production, staging');
    });

    it("exits 2 on malformed YAML, naming the file and line", async () => {
        const file = path.join(scratch("yaml"), "Pulumi.bad.yaml");
        fs.writeFileSync(file, "config:\n  websocket-lb:domains:\n    - a.example.com\n   bad-indent: [\n");
        const result = await preview("--stack", "bad", "--stack-file", file);
        assert.equal(result.code, 2);
        assert.match(result.stderr, new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+: malformed YAML`));
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("exits 2 with the program's message when the configuration is invalid", async () => {
        const result = await preview("--stack", "staging", "--config", "backendTimeoutSec=0");
        assert.equal(result.code, 2);
        assert.match(result.stderr, /error: the program failed: invalid configuration:\n {2}- websocket-lb:backendTimeoutSec is 0; allowed: an integer from 1 to 86400/);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("exits 2 on a bad flag with the usage", async () => {
        const result = await preview("--stack", "staging", "--frobnicate");
        assert.equal(result.code, 2);
        assert.match(result.stderr, /Unknown option '--frobnicate'[^]*usage: npm run preview:offline/);
    });
});
