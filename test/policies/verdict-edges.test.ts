import { strict as assert } from "assert";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { changed, compliantStack, serverlessChain, swap, websocketBackend, websocketUrlMap } from "./fixtures";
import { policyNamed, runResourcePolicy, runStackPolicy, TestResource } from "./harness";

type Props = Record<string, unknown>;

describe("policies: STRONG_COOKIE_AFFINITY needs a named cookie that outlives the connection", () => {
    const rule = policyNamed("enforce-session-affinity") as ResourceValidationPolicy;
    const GOOD = { name: "lb", path: "/", ttl: { seconds: 86400 } };
    const check = async (cookie: unknown, config = {}) => {
        const outcome = await runResourcePolicy(
            rule,
            changed(websocketBackend(), {
                sessionAffinity: "STRONG_COOKIE_AFFINITY",
                affinityCookieTtlSec: undefined,
                strongSessionAffinityCookie: cookie,
            }),
            config,
        );
        assert.equal(outcome.notApplicable, undefined);
        return outcome.violations;
    };
    it("accepts a named cookie living minAffinityTtlSec, and honours a lower minimum", async () => {
        assert.deepEqual(await check(GOOD), []);
        assert.deepEqual(await check({ ...GOOD, ttl: { seconds: 600 } }, { minAffinityTtlSec: 600 }), []);
    });
    for (const [label, cookie, found] of [
        ["a TTL one second short", { ...GOOD, ttl: { seconds: 86399 } }, /name "lb", ttl 86399 s/],
        ["no TTL", { name: "lb", path: "/" }, /name "lb", ttl 0 s/],
        ["no name", { path: "/", ttl: { seconds: 86400 } }, /strongSessionAffinityCookie is name unset, ttl 86400 s/],
        ["no cookie block", undefined, /strongSessionAffinityCookie is unset/],
    ] as const) {
        it(`rejects ${label}`, async () => {
            const found_ = await check(cookie);
            assert.equal(found_.length, 1, found_.join("\n"));
            assert.match(found_[0], /required: a cookie block with a name and ttl\.seconds of at least 86400/);
            assert.match(found_[0], found);
        });
    }
});

describe("policies: serverless backends", () => {
    const lifetime = policyNamed("enforce-websocket-lifetime") as StackValidationPolicy;
    const limits = policyNamed("enforce-serverless-backend-limits") as StackValidationPolicy;

    it("a route timeout shorter than Cloud Run's request timeout is the WebSocket's lifetime", async () => {
        const chain = serverlessChain("chat", "3600s");
        const map = websocketUrlMap(chain.backend);
        const rules = (map.props.pathMatchers as Array<{ pathRules: Props[] }>)[0].pathRules;
        rules[0].routeAction = { timeout: { seconds: "600" } };
        const stack = [chain.run, chain.neg, chain.backend, map];
        const short = await runStackPolicy(lifetime, stack, { minTimeoutSec: 601 });
        assert.equal(short.violations.length, 1, short.violations.join("\n"));
        assert.match(short.violations[0], /lifetime of 600 s/);
        assert.deepEqual((await runStackPolicy(lifetime, stack, { minTimeoutSec: 600 })).violations, []);
    });

    // Written out here, not read from gcp-facts, so a name dropped or misspelt there fails.
    const REFUSED = [
        "balancingMode",
        "maxRate",
        "maxRatePerInstance",
        "maxRatePerEndpoint",
        "maxUtilization",
        "maxConnections",
        "maxConnectionsPerInstance",
        "maxConnectionsPerEndpoint",
        "maxInFlightRequests",
        "maxInFlightRequestsPerInstance",
        "maxInFlightRequestsPerEndpoint",
    ];
    const withBackendField = (field: string, value: unknown): TestResource[] => {
        const s = compliantStack();
        const backends = (s.auth.backend.props.backends as Props[]).map((b) => ({ ...b, [field]: value }));
        return swap(s.all, s.auth.backend, changed(s.auth.backend, { backends }));
    };
    for (const field of REFUSED) {
        it(`rejects backends[].${field} on a serverless NEG backend`, async () => {
            const outcome = await runStackPolicy(
                limits,
                withBackendField(field, field === "balancingMode" ? "RATE" : 5),
            );
            assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
            assert.match(outcome.violations[0], new RegExp(`backends\\[0\\]\\.${field} is ${field} `));
        });
    }
    it("accepts capacityScaler there, and sessionAffinity NONE", async () => {
        assert.deepEqual((await runStackPolicy(limits, withBackendField("capacityScaler", 1))).violations, []);
        const s = compliantStack();
        const none = changed(s.auth.backend, { sessionAffinity: "NONE" });
        assert.deepEqual((await runStackPolicy(limits, swap(s.all, s.auth.backend, none))).violations, []);
    });
    it("rejects health checks on a serverless NEG backend", async () => {
        const s = compliantStack();
        const bad = changed(s.auth.backend, { healthChecks: "projects/p/global/healthChecks/hc" });
        const outcome = await runStackPolicy(limits, swap(s.all, s.auth.backend, bad));
        assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
        assert.match(outcome.violations[0], /healthChecks is .*required: unset/);
    });
});
