import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { childrenOf, CliResult, eventually, isRunning, ROOT, runPreview, startTs } from "../helpers/cli";

const preview = (...args: string[]) => runPreview(args);
const INCIDENT = path.join(__dirname, "fixtures", "Pulumi.incident-broken.yaml");

/** A scratch folder inside the project, so a copied pack still finds the root node_modules. */
function scratch(name: string): string {
    const dir = path.join(ROOT, ".tmp", `${name}-${process.pid}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

function copyPack(): string {
    const dir = scratch("pack");
    // With its build, times kept: a copy whose sources are left alone needs no rebuild.
    for (const entry of [
        "PulumiPolicy.yaml",
        "package.json",
        "tsconfig.json",
        "index.ts",
        "policies.ts",
        "lib",
        "rules",
        "bin",
    ]) {
        fs.cpSync(path.join(ROOT, "policies", entry), path.join(dir, entry), {
            recursive: true,
            preserveTimestamps: true,
        });
    }
    return dir;
}

function diagnostics(result: CliResult): Array<{ policy: string; level: string }> {
    return (JSON.parse(result.stdout) as { diagnostics: Array<{ policy: string; level: string }> }).diagnostics;
}

/** The longest one preview run may take on a loaded 2-core machine (runPreview's own deadline). */
const RUN_MS = 120_000;

describe("preview: offline preview (the real command, the real pack in its own process)", function () {
    // Each test only reads a run the shared hook started; this covers awaiting the slowest one.
    this.timeout(RUN_MS + 30_000);
    // The expensive runs go in parallel, two at a time (one per core), before the assertions.
    const runs: Record<string, Promise<CliResult>> = {};
    let brokenPack: string;
    let advisoryPack: string;
    let typoStackFile: string;

    before(function () {
        brokenPack = copyPack();
        fs.writeFileSync(path.join(brokenPack, "bin", "index.js"), 'throw new Error("pack exploded at load");\n');
        advisoryPack = copyPack();
        const rule = path.join(advisoryPack, "rules", "enforce-backend-timeout.ts");
        // Its build is now older than its sources, so the preview rebuilds it before starting it.
        fs.writeFileSync(
            rule,
            fs.readFileSync(rule, "utf8").replace('enforcementLevel: "mandatory"', 'enforcementLevel: "advisory"'),
        );
        typoStackFile = path.join(scratch("typo"), "Pulumi.typo.yaml");
        fs.writeFileSync(
            typoStackFile,
            fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8") +
                "  websocket-lb:alertEmail: [oncall@example.com]\n",
        );
        const configFile = path.join(scratch("config"), "policy-config.json");
        fs.writeFileSync(
            configFile,
            JSON.stringify({
                "enforce-connection-draining": "disabled",
                "enforce-session-affinity": { minAffinityTtlSec: 1800 },
            }),
        );

        const armorConfig = path.join(scratch("config"), "armor-mandatory.json");
        fs.writeFileSync(armorConfig, JSON.stringify({ "enforce-cloud-armor": "mandatory" }));

        const queue: Array<[string, () => Promise<CliResult>]> = [
            ["staging", () => preview("--stack", "staging")],
            ["production", () => preview("--stack", "production")],
            ["incident", () => preview("--stack", "incident", "--stack-file", INCIDENT, "--json")],
            [
                "json",
                () =>
                    preview(
                        "--stack",
                        "staging",
                        "--config",
                        "backendTimeoutSec=30",
                        "--config",
                        "connectionDrainingTimeoutSec=0",
                        "--json",
                    ),
            ],
            [
                "human",
                () =>
                    preview(
                        "--stack",
                        "staging",
                        "--config",
                        "websocket-lb:backendTimeoutSec=30",
                        "--config",
                        "connectionDrainingTimeoutSec=0",
                    ),
            ],
            ["cut30", () => preview("--stack", "staging", "--config", "websocketTimeoutSec=30")],
            [
                "chatPaths",
                () =>
                    preview(
                        "--stack",
                        "staging",
                        "--config",
                        'websocketPaths=["/chat","/chat/*"]',
                        "--config",
                        "websocketTimeoutSec=30",
                        "--json",
                    ),
            ],
            ["brokenPack", () => preview("--stack", "staging", "--policy-pack", brokenPack)],
            [
                "armorMandatory",
                () =>
                    preview(
                        "--stack",
                        "staging",
                        "--config",
                        "cloudArmor=false",
                        "--policy-pack-config",
                        armorConfig,
                        "--json",
                    ),
            ],
            // One run, two proofs: the copied pack's changed level, and the config file's settings.
            [
                "advisoryPack",
                () =>
                    preview(
                        "--stack",
                        "staging",
                        "--config",
                        "backendTimeoutSec=30",
                        "--config",
                        "connectionDrainingTimeoutSec=0",
                        "--config",
                        "sessionAffinityTtlSec=3600",
                        "--policy-pack",
                        advisoryPack,
                        "--policy-pack-config",
                        configFile,
                        "--json",
                    ),
            ],
            // Input mistakes: each must stop before the program or the pack starts.
            ["typoKey", () => preview("--stack", "staging", "--config", "bakendTimeoutSec=30")],
            ["typoStackFile", () => preview("--stack", "typo", "--stack-file", typoStackFile)],
            ["noPack", () => preview("--stack", "staging", "--policy-pack", "no-such-pack")],
            ["noPackConfig", () => preview("--stack", "staging", "--policy-pack-config", "no-such-config.json")],
            ["typoFlag", () => preview("-s", "staging", "--polcy-pack", "policies")],
            ["invalidConfig", () => preview("--stack", "staging", "--config", "backendTimeoutSec=0")],
            ["unknownStack", () => preview("--stack", "qa")],
            ["help", () => preview("-h")],
        ];
        // Sized for the worst case: every run at its deadline, two at a time.
        this.timeout(Math.ceil(queue.length / 2) * RUN_MS + 30_000);
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
            assert.match(
                result.stdout,
                /gcp:compute\/backendService:BackendService\s+chat-api-backend {2}\[timeout 86400s, affinity GENERATED_COOKIE, ttl 86400s/,
            );
            assert.match(
                result.stdout,
                /chat-https {2}\[\/ws,\/ws\/\*,\/websocket,\/websocket\/\* \(route timeout 86400s\)/,
            );
            // A new stack's preview: the URL map's references are spelled from names known then, so
            // every rule decides and none says it can't run. The advisories are the RATE trade-off
            // and the scale-in advisory on the group and its autoscaler.
            assert.match(
                result.stdout,
                new RegExp(`Summary: ${stack === "staging" ? 54 : 61} resources, 0 mandatory violations, 1 advisory`),
            );
            assert.doesNotMatch(result.stdout, /can't run/);
            assert.match(
                result.stdout,
                /\[advisory\] disallow-websocket-rate-balancing {2}BackendService chat-api-backend/,
            );
            // The regional group keeps its VMs where they are and scales in slowly: no scale-in advisory.
            assert.doesNotMatch(result.stdout, /enforce-websocket-scale-in/);
            assert.match(result.stdout, /\/api,\/api\/\* \(route timeout 30s\)/);
            // The stack's outputs, as pulumi preview prints them.
            assert.match(result.stdout, /^Outputs \(mock values offline[^\n]*\n {4}ipAddress +: "\[unknown\]"$/m);
            assert.match(result.stdout, /^ {4}websocketUrls +: \{\n {8}"([a-z]+\.)?chat\.example\.com": \[$/m);
        });
    }

    it("exits 1 naming enforce-websocket-lifetime on the route when the WebSocket route timeout is 30 s, as the staging incident report's cut", async () => {
        const result = await runs.cut30;
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /\[mandatory\] enforce-websocket-lifetime {2}URLMap chat-https/);
        assert.match(
            result.stdout,
            /pathMatchers\[0\]\.pathRules\[0\] \(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: routeAction\.timeout is 30 s/,
        );
        assert.doesNotMatch(result.stdout, /can't run/);
    });

    it("judges the stack's own websocketPaths: a stack serving /chat is checked at /chat, not at the default /ws", async () => {
        const result = await runs.chatPaths;
        assert.equal(result.code, 1, result.stderr);
        const doc = JSON.parse(result.stdout) as {
            diagnostics: Array<{ policy: string; level: string; message: string }>;
        };
        const mandatory = doc.diagnostics.filter((d) => d.level === "mandatory");
        assert.deepEqual(
            mandatory.map((d) => d.policy),
            ["enforce-websocket-lifetime"],
        );
        assert.match(
            mandatory[0].message,
            /pathRules\[0\] \(serving \/chat, \/chat\/\*\) is a WebSocket lifetime of 30 s/,
        );
    });

    it("exits 1 naming enforce-backend-timeout when the backend timeout is set to 30", async () => {
        const result = await runs.human;
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /\[mandatory\] enforce-backend-timeout {2}BackendService chat-api-backend/);
        assert.match(result.stdout, /timeoutSec is 30; required: at least 86400/);
    });

    it("exits 1 on the incident report's broken settings with each expected policy", async () => {
        const result = await runs.incident;
        assert.equal(result.code, 1, result.stderr);
        const found = diagnostics(result)
            .map((d) => `${d.level} ${d.policy}`)
            .sort();
        // The staging incident report's 30 s cut is a mandatory lifetime violation even on a new
        // stack: the route's own timeout decides it, whatever backend it reaches.
        assert.deepEqual(found, [
            "advisory disallow-websocket-rate-balancing",
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
        const doc = JSON.parse(json.stdout) as {
            summary: { resources: number; mandatory: number; advisory: number };
            resources: unknown[];
            diagnostics: Array<{ level: string }>;
        };
        assert.deepEqual(doc.summary, { resources: 54, mandatory: 1, advisory: 2 });
        assert.equal(doc.resources.length, doc.summary.resources);
        assert.equal(doc.diagnostics.filter((d) => d.level === "mandatory").length, doc.summary.mandatory);
        assert.match(human.stdout, /Summary: 54 resources, 1 mandatory violation, 2 advisories$/m);
        assert.equal((human.stdout.match(/^ {4}\[mandatory\]/gm) ?? []).length, doc.summary.mandatory);
        assert.equal((human.stdout.match(/^ {4}\[advisory\]/gm) ?? []).length, doc.summary.advisory);
    });

    it("runs the analyzer out of process: a copied pack with the rule made advisory changes the verdict", async () => {
        const result = await runs.advisoryPack;
        assert.equal(result.code, 0, result.stderr);
        const timeout = diagnostics(result).filter((d) => d.policy === "enforce-backend-timeout");
        assert.deepEqual(
            timeout.map((d) => d.level),
            ["advisory"],
        );
    });

    it("passes --policy-pack-config levels and settings to the pack", async () => {
        const result = await runs.advisoryPack;
        // Draining 0 would be an advisory, but the file disables the policy; a 3600 s affinity
        // cookie passes the 1800 s minimum set in the file.
        assert.deepEqual(
            diagnostics(result)
                .map((d) => d.policy)
                .sort(),
            ["disallow-websocket-rate-balancing", "enforce-backend-timeout"],
        );
    });

    it("blocks backends without Cloud Armor once the config makes enforce-cloud-armor mandatory", async () => {
        const result = await runs.armorMandatory;
        assert.equal(result.code, 1, result.stderr);
        const armor = diagnostics(result).filter((d) => d.policy === "enforce-cloud-armor");
        assert.deepEqual(
            armor.map((d) => d.level),
            ["mandatory", "mandatory", "mandatory"],
            "one per backend service: api, auth and frontend",
        );
    });

    it("exits 2 with the pack's own error when the pack fails to start, and no stack trace of ours", async () => {
        const result = await runs.brokenPack;
        assert.equal(result.code, 2);
        assert.match(result.stderr, /error: policy pack .* failed to start \(exit code \d+\)/);
        assert.match(result.stderr, /pack exploded at load/);
        assert.doesNotMatch(result.stderr, /at previewOffline|at RunningPack/);
    });

    it("exits 2 on an unknown stack, listing the stacks that exist", async () => {
        const result = await runs.unknownStack;
        assert.equal(result.code, 2);
        assert.equal(
            result.stderr.trim(),
            'error: unknown stack "qa": there is no Pulumi.qa.yaml; stacks here: production, staging',
        );
    });

    it("exits 2 on malformed YAML, naming the file and line", async () => {
        const file = path.join(scratch("yaml"), "Pulumi.bad.yaml");
        fs.writeFileSync(file, "config:\n  websocket-lb:domains:\n    - a.example.com\n   bad-indent: [\n");
        const result = await preview("--stack", "bad", "--stack-file", file);
        assert.equal(result.code, 2);
        assert.match(
            result.stderr,
            new RegExp(
                `^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+:\\d+: malformed YAML: [^\\n]*[^:]\\n$`,
            ),
        );
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("exits 2 with the program's message when the configuration is invalid", async () => {
        const result = await runs.invalidConfig;
        assert.equal(result.code, 2);
        assert.match(
            result.stderr,
            /error: the program failed: invalid configuration:\n {2}- websocket-lb:backendTimeoutSec is 0; allowed: an integer from 1 to 86400/,
        );
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("exits 2 on sessionAffinity CLIENT_IP_PROTO with one line naming the key and the allowed values", async () => {
        const result = await preview("--stack", "staging", "--config", "websocket-lb:sessionAffinity=CLIENT_IP_PROTO");
        assert.equal(result.code, 2);
        const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
        assert.deepEqual(problems, [
            '  - websocket-lb:sessionAffinity is "CLIENT_IP_PROTO"; HTTP(S) load balancers refuse it; allowed: NONE, CLIENT_IP, GENERATED_COOKIE, STRONG_COOKIE_AFFINITY',
        ]);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("exits 2 on a misspelled flag, naming the closest one, with the usage", async () => {
        const result = await runs.typoFlag;
        assert.equal(result.code, 2);
        assert.match(
            result.stderr,
            /^error: unknown flag --polcy-pack; did you mean --policy-pack\?\nusage: npm run preview:offline/,
        );
        assert.equal((result.stderr.match(/'/g) ?? []).length % 2, 0, "unbalanced quotes");
    });

    it("exits 2 on a misspelled --config key, naming the closest valid one, before any work", async () => {
        const result = await runs.typoKey;
        assert.equal(result.code, 2);
        assert.equal(
            result.stderr.trim(),
            "error: websocket-lb:bakendTimeoutSec (--config bakendTimeoutSec) is not a config key of websocket-lb; did you mean backendTimeoutSec?",
        );
    });

    it("exits 2 on a misspelled key in the stack file, naming the file and the closest valid key", async () => {
        const result = await runs.typoStackFile;
        assert.equal(result.code, 2);
        assert.match(
            result.stderr,
            /error: websocket-lb:alertEmail \(.*Pulumi\.typo\.yaml\) is not a config key of websocket-lb; did you mean alertEmails\?/,
        );
    });

    it("exits 2 with one line when --policy-pack does not exist, before starting anything", async () => {
        const result = await runs.noPack;
        assert.equal(result.code, 2);
        assert.equal(
            result.stderr.trim(),
            "error: --policy-pack no-such-pack: no such folder; expected a policy pack folder with PulumiPolicy.yaml (default: policies)",
        );
    });

    it("exits 2 with one line when --policy-pack-config does not exist, before starting anything", async () => {
        const result = await runs.noPackConfig;
        assert.equal(result.code, 2);
        assert.equal(
            result.stderr.trim(),
            "error: --policy-pack-config no-such-config.json: no such file; expected a JSON file of policy name to level or settings",
        );
    });

    it("-h prints the usage with short flags and examples, exit 0", async () => {
        const result = await runs.help;
        assert.equal(result.code, 0);
        assert.match(result.stdout, /-s, --stack NAME/);
        assert.match(result.stdout, /-c, --config KEY=VALUE/);
        assert.match(result.stdout, /^examples:\n {2}npm run preview:offline -- -s staging$/m);
    });

    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        it(`${signal} to the preview ends its policy pack process too${signal === "SIGTERM" ? ", exit 130 with a note" : " (the pack watches a lifeline pipe)"}`, async () => {
            const running = startTs("preview/cli.ts", ["--stack", "staging"]);
            try {
                const findPack = () =>
                    childrenOf(running.child.pid!).find((p) => p.cmdline.includes("run-policy-pack"));
                assert.ok(
                    await eventually(() => findPack() !== undefined, RUN_MS),
                    `the pack never started:\n${running.output().stderr}`,
                );
                const pack = findPack()!;
                running.child.kill(signal);
                const exit = await running.exited;
                if (signal === "SIGTERM") {
                    assert.equal(exit.code, 130, running.output().stderr);
                    assert.match(
                        running.output().stderr,
                        /interrupted by SIGTERM: preview stopped and its policy pack ended/,
                    );
                }
                // Generous: the point is "it ends", not how fast; before the fix it ran on for a minute or more.
                assert.ok(
                    await eventually(() => !isRunning(pack.pid), 30_000),
                    `policy pack ${pack.pid} still running after the preview ended`,
                );
            } finally {
                running.child.kill("SIGKILL");
            }
        });
    }
});
