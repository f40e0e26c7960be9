import { strict as assert } from "assert";
import { pathsRegex, originsRegex } from "../../infra/security";
import { Cloud } from "../engine/gcp-provider/cloud";
import { apiRefusal } from "../engine/gcp-provider/refusals";
import { dependedOnBy, ofType, ProgramError, runStack, TYPES } from "../helpers/stack";

interface RuleInput {
    priority: number;
    description?: string;
    action: string;
    preview?: boolean;
    match: { expr?: { expression: string }; versionedExpr?: string; config?: unknown };
    rateLimitOptions?: Record<string, unknown> & { banDurationSec?: number };
}
interface PolicyInput {
    type: string;
    rules: RuleInput[];
    adaptiveProtectionConfig?: unknown;
}
const SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy";

describe("infrastructure: the Cloud Armor policy", () => {
    for (const [stack, origins, action] of [
        ["staging", ["https://staging.chat.example.com"], "throttle"],
        ["production", ["https://chat.example.com", "https://www.chat.example.com"], "rate_based_ban"],
    ] as const) {
        it(`${stack}: one CLOUD_ARMOR policy, on every backend service, Cloud Run ones included`, async () => {
            const run = await runStack(stack);
            const [policy] = ofType(run, SECURITY_POLICY);
            assert.equal(ofType(run, SECURITY_POLICY).length, 1);
            const services = ofType(run, TYPES.backendService);
            assert.equal(services.length, 3);
            for (const service of services) {
                assert.deepEqual(dependedOnBy(run, service, "securityPolicy"), [policy], service.name);
            }
            const p = policy.inputs as unknown as PolicyInput;
            assert.equal(p.type, "CLOUD_ARMOR");
            const [origin, limit, ...rest] = p.rules;
            assert.equal(origin.action, "deny(403)");
            const ws = "request.path.matches('^(/ws|/ws/.*|/websocket|/websocket/.*)$')";
            const allowed = origins.map((o) => o.replace(/\./g, "\\\\.")).join("|");
            assert.equal(
                origin.match.expr?.expression,
                `${ws} && has(request.headers['origin']) && !request.headers['origin'].matches('^(${allowed})$')`,
            );
            assert.equal(limit.action, action);
            assert.equal(limit.match.expr?.expression, ws);
            assert.deepEqual(
                { ...limit.rateLimitOptions, banDurationSec: undefined },
                {
                    conformAction: "allow",
                    exceedAction: "deny(429)",
                    enforceOnKey: "IP",
                    rateLimitThreshold: { count: 120, intervalSec: 60 },
                    banDurationSec: undefined,
                },
            );
            assert.equal(limit.rateLimitOptions?.banDurationSec, action === "rate_based_ban" ? 600 : undefined);
            const waf = rest.slice(0, -1);
            assert.ok(waf.length >= 2);
            for (const rule of waf) {
                assert.match(
                    rule.match.expr?.expression ?? "",
                    /^evaluatePreconfiguredWaf\('[a-z]+-v33-stable'\) && !request\.path/,
                );
            }
            assert.deepEqual(rest.at(-1), {
                priority: 2147483647,
                description: "default rule",
                action: "allow",
                match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
            });
            assert.ok(
                p.rules.every((r) => r.preview === undefined),
                "no rule in preview",
            );
            assert.equal(p.adaptiveProtectionConfig !== undefined, stack === "production");
        });
    }

    it("is a shape the engine tier's stand-in accepts, which refuses the shapes the API refuses", async () => {
        const run = await runStack("production");
        const policy = ofType(run, SECURITY_POLICY)[0].inputs as unknown as PolicyInput;
        const refusal = (rules: RuleInput[]) =>
            apiRefusal(SECURITY_POLICY, { ...policy, rules }, new Cloud(undefined), "example-chat");
        assert.equal(refusal(policy.rules), undefined);
        const limit = policy.rules[1];
        assert.match(
            refusal([{ ...limit, rateLimitOptions: undefined }]) ?? "",
            /rules\[0\]\.rateLimitOptions': rate limit options must be set exactly when the action is throttle or rate_based_ban/,
        );
        assert.match(
            refusal([{ ...limit, rateLimitOptions: { ...limit.rateLimitOptions, exceedAction: "deny(418)" } }]) ?? "",
            /exceedAction': "deny\(418\)"/,
        );
        assert.match(
            refusal([
                {
                    ...limit,
                    rateLimitOptions: { ...limit.rateLimitOptions, rateLimitThreshold: { count: 1, intervalSec: 45 } },
                },
            ]) ?? "",
            /intervalSec': 45/,
        );
    });

    it("is left out, with securityPolicy unset everywhere, when cloudArmor is false", async () => {
        const run = await runStack("staging", ["cloudArmor=false"]);
        assert.deepEqual(ofType(run, SECURITY_POLICY), []);
        for (const service of ofType(run, TYPES.backendService)) {
            assert.equal((service.inputs as { securityPolicy?: string }).securityPolicy, undefined);
        }
    });

    it("writes regular expressions that match what the URL map routes, and only the allowed origins", () => {
        const paths = new RegExp(pathsRegex(["/ws", "/ws/*", "/chat.v1"]));
        for (const [path, matches] of [
            ["/ws", true],
            ["/ws/room", true],
            ["/wsx", false],
            ["/chat.v1", true],
            ["/chatXv1", false],
        ] as const) {
            assert.equal(paths.test(path), matches, path);
        }
        const origins = new RegExp(originsRegex(["https://chat.example.com"]));
        assert.ok(origins.test("https://chat.example.com"));
        for (const foreign of [
            "https://chatXexample.com",
            "https://chat.example.com.evil.test",
            "http://chat.example.com",
        ]) {
            assert.ok(!origins.test(foreign), foreign);
        }
    });

    it("refuses a bad cloudArmor setting in one line naming it, before any resource", async () => {
        for (const [value, message] of [
            ['{"allowedOrigins":["*"]}', /cloudArmor\.allowedOrigins is "\*"; a wildcard lets any site open sockets/],
            ['{"allowedOrigins":["https://chat.example.com/app"]}', /allowed: an origin as browsers send it/],
            ['{"handshakeRateLimit":{"intervalSec":45}}', /handshakeRateLimit\.intervalSec is 45; allowed: 10, 30, 60/],
            [
                '{"handshakeRateLimit":{"action":"rate_based_ban","count":20000}}',
                /count is 20000; allowed: an integer from 1 to 10000 \(Cloud Armor's bound for rate_based_ban\)/,
            ],
            ['{"handshakeRateLimit":{"exceedStatus":418}}', /exceedStatus is 418; allowed: 403, 404, 429, 502/],
            [
                '{"wafRules":["sqli-stable"]}',
                /wafRules is "sqli-stable"; allowed: Cloud Armor's preconfigured rule sets/,
            ],
            ['{"previw":true}', /cloudArmor\.previw is not a setting; did you mean preview\?/],
        ] as const) {
            await assert.rejects(runStack("staging", [`cloudArmor=${value}`]), (e: unknown) => {
                assert.ok(e instanceof ProgramError);
                assert.match(e.message, message);
                assert.deepEqual(
                    e.resources.filter((r) => r.type !== TYPES.stack),
                    [],
                );
                return true;
            });
        }
    });
});
