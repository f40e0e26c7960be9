import { strict as assert } from "assert";
import { parseSettings } from "../../infra/config";
import type { CloudArmorSettings, LoadBalancerSettings } from "../../infra/settings";
import { loadStackConfig } from "../../preview/stack-config";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { EchoServer, startEchoServer } from "../../validator";
import { Report } from "../../validator/report";
import { ROOT } from "../helpers/cli";
import { nginxFront } from "./nginx-front";
import { Closable, hasBinary, silentServer } from "./servers";

/** The settings a stack declares, parsed by the program's own parser. */
function stackSettings(stack: string): LoadBalancerSettings {
    const { config } = loadStackConfig({ projectDir: ROOT, stack });
    return parseSettings((key) => config[`websocket-lb:${key}`], "websocket-lb");
}

async function validate(args: string[]): Promise<{ code: number; out: string; err: string; report?: Report }> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env: {} });
    assert.equal(liveCount(), 0, "a socket was left open");
    return { code, out, err, report: args.includes("--json") && code !== 2 ? (JSON.parse(out) as Report) : undefined };
}

const codes = (report: Report | undefined) => report?.failures.map((f) => f.code) ?? [];

describe("validator: --check-origin and --check-rate-limit against an nginx front", function () {
    // Hundreds of handshakes through nginx on a busy 2-core machine: generous, and no timing asserted.
    this.timeout(60_000);
    const staging = stackSettings("staging");
    const armor = staging.cloudArmor;
    const limit = armor.handshakeRateLimit;
    const declared = `${limit.count}/${limit.intervalSec}s`;
    let echo: EchoServer;
    const fronts: Closable[] = [];

    before(async function () {
        if (!hasBinary("nginx")) {
            console.warn("      SKIPPED: nginx is not installed (apt-get install -y nginx); CI installs it");
            this.skip();
        }
        echo = await startEchoServer();
    });
    after(async () => {
        await Promise.all(fronts.map((f) => f.close()));
        await echo?.close();
    });
    async function front(policy: CloudArmorSettings | undefined): Promise<Closable> {
        const started = await nginxFront(echo.port, staging.websocketPaths, policy);
        fronts.push(started);
        return started;
    }

    it("passes both checks against the policy the staging stack declares, and says where the limit bit", async () => {
        const nginx = await front(armor);
        const run = await validate([
            "--url",
            nginx.url,
            "--check-origin",
            armor.allowedOrigins[0],
            "--check-rate-limit",
            declared,
            "--json",
        ]);
        assert.equal(run.code, 0, run.out + run.err);
        const [origin, rate] = run.report!.security!;
        assert.equal(origin.verdict, "pass", origin.summary);
        assert.equal(rate.verdict, "pass", rate.summary);
        // About N: the Origin check's accepted upgrade counted too, and nginx's bucket refills at
        // N per interval while the handshakes go out, so a slow machine gets a few more through.
        const refilled = Math.ceil((rate.elapsedSec! * limit.count) / limit.intervalSec);
        assert.ok(
            rate.limitBitAt! >= limit.count - 1 && rate.limitBitAt! <= limit.count + refilled + 2,
            `bit at ${rate.limitBitAt} after ${rate.elapsedSec} s`,
        );
        assert.deepEqual(run.report!.endpoints, [], "the security checks replace the default probes");
        // A fresh front: this one's limit is spent, and it would refuse the allowed Origin with 429.
        const text = await validate(["--url", (await front(armor)).url, "--check-origin", armor.allowedOrigins[0]]);
        assert.match(
            text.out,
            /origin \/ws: pass: Origin https:\/\/cross-site\.invalid refused with 403, https:\/\/staging\.chat\.example\.com accepted/,
        );
    });

    it("fails each check against a front without the limits, each with its own code", async () => {
        const nginx = await front(undefined);
        const origin = await validate(["--url", nginx.url, "--check-origin", armor.allowedOrigins[0], "--json"]);
        assert.equal(origin.code, 1);
        assert.deepEqual(codes(origin.report), ["ORIGIN_NOT_REFUSED"]);
        const rate = await validate(["--url", nginx.url, "--check-rate-limit", declared, "--json"]);
        assert.equal(rate.code, 1);
        assert.deepEqual(codes(rate.report), ["RATE_LIMIT_NOT_ENFORCED"]);
        assert.equal(rate.report!.security![0].handshakes, limit.count * 2 + 2);
        assert.match(
            rate.report!.failures[0].message,
            new RegExp(
                `all ${limit.count * 2 + 2} handshakes were accepted against a declared limit of ${limit.count} per ${limit.intervalSec} s`,
            ),
        );
    });

    it("fails a refusal with another status than the policy's, and an allowed Origin that is refused", async () => {
        const nginx = await front({ ...armor, handshakeRateLimit: { ...limit, count: 3, exceedStatus: 503 } });
        const rate = await validate(["--url", nginx.url, "--check-rate-limit", "3/60s", "--json"]);
        assert.deepEqual(codes(rate.report), ["RATE_LIMIT_WRONG_STATUS"]);
        assert.match(rate.report!.failures[0].message, /handshake 4 was refused with 503, expected 429/);
        const other = await validate([
            "--url",
            nginx.url,
            "--check-origin",
            "https://other.example.com",
            "--origin-status",
            "401",
            "--json",
        ]);
        assert.deepEqual(codes(other.report), ["ORIGIN_WRONG_STATUS", "ORIGIN_ALLOWED_REFUSED"]);
    });

    it("reports a front that never answers with the handshake's own code, not a verdict on the limit", async () => {
        const silent = await silentServer();
        fronts.push(silent);
        const run = await validate([
            "--url",
            silent.url,
            "--check-rate-limit",
            "5/60s",
            "--check-origin",
            armor.allowedOrigins[0],
            "--handshake-timeout",
            "1",
            "--json",
        ]);
        assert.equal(run.code, 1);
        assert.deepEqual(codes(run.report), ["HANDSHAKE_TIMEOUT", "HANDSHAKE_TIMEOUT", "HANDSHAKE_TIMEOUT"]);
        assert.equal(run.report!.security![1].handshakes, 1, "the rate check stops at the first handshake that fails");
    });

    it("refuses bad flags in one line before any work", async () => {
        for (const [args, message] of [
            [["--check-rate-limit", "lots"], /--check-rate-limit "lots": expected N\/WINDOW/],
            [["--check-rate-limit", "0/60s"], /N handshakes from 1 to 10000/],
            [["--check-rate-limit", "20/2h"], /expected N\/WINDOW/],
            [
                ["--check-origin", "https://chat.example.com/app"],
                /--check-origin "https:\/\/chat\.example\.com\/app": expected an origin/,
            ],
            [
                ["--check-origin", "https://a.example.com", "--origin-status", "200"],
                /--origin-status "200": expected an HTTP error status from 400 to 599/,
            ],
        ] as const) {
            const run = await validate(["--url", "ws://127.0.0.1:9", ...args]);
            assert.equal(run.code, 2, run.err);
            assert.match(run.err, message);
            assert.equal(run.err.trim().split("\n")[0].startsWith("error:"), true, run.err);
        }
    });
});
