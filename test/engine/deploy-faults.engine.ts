import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as path from "path";
import { offlineGate } from "../../deploy/gate";
import { PipelineOptions, PipelineReport, runPipeline } from "../../deploy/pipeline";
import { sourceRevision } from "../../deploy/revisions";
import { LAST_GOOD_IMAGES_TAG, PulumiStackTarget } from "../../deploy/targets/automation";
import { WATCH_DEFAULTS } from "../../deploy/watch";
import { thresholdsFrom, VALIDATION_DEFAULTS } from "../../validator";
import { ROOT, show, Workspace } from "./harness";
import { API_IMAGE, HOST, servedApiImage, stagingBehindLoadBalancer } from "./local-lb";

// The deploy pipeline under faults, with the real Pulumi CLI: a rollback to the image that ran,
// Ctrl-C to the whole process group during up, and a stack left locked by a deploy killed with
// kill -9.

const REGISTER = path.join(ROOT, "cli", "register.js");
const DEPLOY = path.join(ROOT, "deploy", "cli.ts");

function git(dir: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A process started in a process group of its own, as a terminal runs a foreground job. */
function startGroup(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    return { child, exited, output: () => ({ stdout, stderr }) };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !check()) {
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return check();
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
        process.kill(-child.pid!, signal);
    } catch {
        // Already gone.
    }
}

describe("engine: the deploy pipeline under faults (real CLI, gcp stand-in)", function () {
    this.timeout(3_000_000);
    // The project is a git checkout: deploys record its commit, rollbacks run worktrees of it.
    const deployed = stagingBehindLoadBalancer("deploy-faults", (workspace) => {
        const commit = ["-c", "user.email=engine@example.com", "-c", "user.name=engine"];
        git(workspace.dir, "init", "--quiet", "--initial-branch=main");
        git(workspace.dir, ...commit, "add", "-A");
        git(workspace.dir, ...commit, "commit", "--quiet", "-m", "staging");
    });
    let ws: Workspace;
    let ca: Buffer;
    const log: string[] = [];

    before(() => ({ ws, cert: ca } = deployed()));

    const phases = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);

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
                resolve: [{ host: HOST, port: 443, address: "127.0.0.1" }],
                ca,
                thresholds: thresholdsFrom(["handshake_p95_ms<20000", "message_latency_p95_ms<10000"]),
            },
            watch: { ...WATCH_DEFAULTS, durationSec: 0 },
            keep: { connections: 0, probeIntervalMs: 1000 },
            change: { images: { api: `${API_IMAGE}:${image}` } },
            revision: sourceRevision(ws.dir),
            log: (line) => log.push(line),
        };
    }

    function target(): PulumiStackTarget {
        return new PulumiStackTarget({
            projectDir: ws.dir,
            stack: "staging",
            project: "websocket-lb",
            packDir: path.join(ws.dir, "policies"),
            revision: sourceRevision(ws.dir),
            log: (line) => log.push(line),
        });
    }

    const gate = () => offlineGate(ws.dir, "staging", path.join(ws.dir, "policies"));

    it("a rollback returns to the image that was running (--image 1.4.3), not the commit's stack file (1.4.2)", async () => {
        const good = await runPipeline(target(), gate(), options("1.4.3"));
        assert.equal(good.outcome, "deployed", `${phases(good).join("\n")}\n${log.slice(-40).join("\n")}`);
        assert.equal(servedApiImage(ws.cloudFile), `${API_IMAGE}:1.4.3`);
        // The preview ran on the config up applied (the image named, changes shown): a preview of the
        // checkout's own config would have shown none. Its counts may exceed up's: at preview, ids
        // of replaced resources are unknown, so their dependents show as changing too.
        const detail = (name: string) => good.phases.find((p) => p.name === name)!.detail;
        const changed = (text: string) => {
            const counts = JSON.parse(/\{[^}]*\}/.exec(text)?.[0] ?? "{}") as Record<string, number>;
            return Object.entries(counts).filter(([op, n]) => op !== "same" && n > 0).length > 0;
        };
        assert.ok(changed(detail("up")), detail("up"));
        assert.ok(changed(detail("preview with the policy pack")), detail("preview with the policy pack"));
        assert.match(detail("preview with the policy pack"), /images over the stack file: api=.*:1\.4\.3/);
        const tag = await ws.pulumi(["stack", "tag", "get", LAST_GOOD_IMAGES_TAG, "--stack", "staging"]);
        assert.equal(tag.code, 0, show(tag));
        assert.deepEqual(JSON.parse(tag.stdout), {
            api: { image: `${API_IMAGE}:1.4.3`, over: `${API_IMAGE}:1.4.2` },
        });

        const broken = await runPipeline(target(), gate(), options("broken"));
        assert.equal(broken.outcome, "rolled-back", `${phases(broken).join("\n")}\n${log.slice(-40).join("\n")}`);
        assert.ok(phases(broken).includes("validation after rollback: ok"), phases(broken).join(", "));
        assert.equal(servedApiImage(ws.cloudFile), `${API_IMAGE}:1.4.3`, "the image that was serving, not 1.4.2");
        assert.equal(git(ws.dir, "status", "--porcelain"), "", "the user's checkout is untouched");
    });

    it("Ctrl-C to the whole process group during up: up runs to its end, exit 130, no pending operations", async () => {
        const deploy = startGroup(
            process.execPath,
            [
                "-r",
                REGISTER,
                DEPLOY,
                "--stack",
                "staging",
                "--project",
                ws.dir,
                "--image",
                `api=${API_IMAGE}:1.4.4`,
                "--hold",
                "1",
                "--no-5xx-trigger",
            ],
            ROOT,
            ws.env(),
        );
        try {
            assert.ok(
                await until(() => /^▶ up$/m.test(deploy.output().stdout), 900_000),
                `up never started:\n${deploy.output().stdout}\n${deploy.output().stderr}`,
            );
            // The engine is running the update now: a terminal's Ctrl-C reaches every process of its group.
            assert.ok(
                await until(() => / {4}\| .*(updating|creating|replacing)/.test(deploy.output().stdout), 300_000),
            );
            killGroup(deploy.child, "SIGINT");
            const code = await deploy.exited;
            const { stdout, stderr } = deploy.output();
            assert.equal(code, 130, `${stdout}\n${stderr}`);
            assert.match(stdout, /^ {2}up +ok /m);
            assert.match(stderr, /interrupted: interrupted after up: validation stopped/);
        } finally {
            killGroup(deploy.child, "SIGKILL");
        }
        const history = await ws.pulumi(["stack", "history", "--json", "--stack", "staging"]);
        assert.equal((JSON.parse(history.stdout) as Array<{ result: string }>)[0].result, "succeeded", history.stdout);
        const exported = await ws.pulumi(["stack", "export", "--stack", "staging"]);
        const pending = (JSON.parse(exported.stdout) as { deployment: { pending_operations?: unknown[] } }).deployment
            .pending_operations;
        assert.equal(pending?.length ?? 0, 0);
        assert.equal(servedApiImage(ws.cloudFile), `${API_IMAGE}:1.4.4`);
    });

    it("after kill -9 mid-up, the next deploy names the lock and what to run, before any work: exit 2", async () => {
        const exported = await ws.pulumi(["stack", "export", "--stack", "staging"]);
        const urn = (
            JSON.parse(exported.stdout) as { deployment: { resources: Array<{ urn: string; type: string }> } }
        ).deployment.resources.find((r) => r.type === "gcp:compute/healthCheck:HealthCheck")!.urn;
        const up = startGroup(
            path.join(ROOT, ".tools", "bin", "pulumi"),
            ["up", "--yes", "--stack", "staging", "--replace", urn, "--color", "never"],
            ws.dir,
            ws.env(),
        );
        try {
            assert.ok(
                await until(() => /creating|replacing|updating/.test(up.output().stdout), 600_000),
                up.output().stdout + up.output().stderr,
            );
        } finally {
            killGroup(up.child, "SIGKILL");
        }
        await up.exited;

        const deploy = startGroup(
            process.execPath,
            ["-r", REGISTER, DEPLOY, "--stack", "staging", "--project", ws.dir],
            ROOT,
            ws.env(),
        );
        const code = await deploy.exited;
        const { stdout, stderr } = deploy.output();
        assert.equal(code, 2, `${stdout}\n${stderr}`);
        assert.match(
            stderr,
            /^error: deploy of staging did not start, nothing was changed; stack ready \(no lock, no pending operations\): stack staging is held by an update that did not finish \(locked by .*\.json \(pid \d+/m,
        );
        assert.match(stderr, /run: pulumi cancel --stack staging --yes, then pulumi refresh --stack staging/);
        assert.doesNotMatch(stdout, /gate: offline preview/, "nothing ran before the lock was found");
    });
});
