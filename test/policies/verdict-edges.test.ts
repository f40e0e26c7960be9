import { strict as assert } from "assert";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    artifactRegistryProject,
    headerNameProblem,
    pathPatternProblem,
    regionalSurge,
    runtimeStage,
    serviceAccountEmail,
} from "../../policies/facts";
import {
    changed,
    compliantStack,
    serverlessChain,
    swap,
    websocketBackend,
    websocketGroup,
    websocketUrlMap,
} from "./fixtures";
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

describe("policies: a serverless backend is judged at the stack phase, not by the backend rules", () => {
    // Every property these rules would otherwise flag, on a backend of serverless NEGs.
    const provoking = {
        connectionDrainingTimeoutSec: 0,
        sessionAffinity: "CLIENT_IP",
        localityLbPolicy: undefined,
        timeoutSec: undefined,
    };
    for (const name of [
        "disallow-affinity-with-utilization",
        "enforce-affinity-locality-policy",
        "enforce-backend-timeout",
        "enforce-connection-draining",
        "enforce-session-affinity",
    ]) {
        it(`${name} says it does not apply`, async () => {
            const backend = changed(serverlessChain().backend, provoking);
            const outcome = await runResourcePolicy(policyNamed(name), backend);
            assert.deepEqual(outcome.violations, []);
            assert.ok(outcome.notApplicable, `${name} judged a serverless backend`);
        });
    }
    it("disallow-affinity-with-utilization does not apply without an affinity, and applies with one", async () => {
        const rule = policyNamed("disallow-affinity-with-utilization") as ResourceValidationPolicy;
        const utilization = (affinity: string | undefined) =>
            changed(websocketBackend(), {
                sessionAffinity: affinity,
                backends: [{ group: "ig", balancingMode: "UTILIZATION" }],
            });
        assert.ok((await runResourcePolicy(rule, utilization(undefined))).notApplicable);
        assert.ok((await runResourcePolicy(rule, utilization("NONE"))).notApplicable);
        assert.equal((await runResourcePolicy(rule, utilization("CLIENT_IP"))).violations.length, 1);
    });
});

describe("policies: disallow-websocket-rate-balancing", () => {
    const rule = policyNamed("disallow-websocket-rate-balancing") as StackValidationPolicy;
    it("advises once per backend, however many WebSocket routes reach it", async () => {
        const rate = changed(websocketBackend(), { backends: [{ group: "ig", balancingMode: "RATE" }] });
        const map = websocketUrlMap(rate);
        const outcome = await runStackPolicy(rule, [rate, map, { ...map, name: "second-map" }]);
        assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
    });
    it("leaves alone a serverless backend, which has no balancing mode of its own", async () => {
        const chain = serverlessChain();
        const rate = changed(
            chain.backend,
            { backends: [{ group: "neg", balancingMode: "RATE" }] },
            chain.backend.links,
        );
        const outcome = await runStackPolicy(rule, [chain.run, chain.neg, rate, websocketUrlMap(rate)]);
        assert.deepEqual(outcome.violations, []);
    });
});

describe("policies: enforce-https-only, one property of the port-80 path at a time", () => {
    const rule = policyNamed("enforce-https-only") as StackValidationPolicy;
    const judge = async (change: (s: ReturnType<typeof compliantStack>) => TestResource[]) =>
        runStackPolicy(rule, change(compliantStack()));
    it("passes the compliant redirect", async () => {
        assert.deepEqual((await judge((s) => s.all)).violations, []);
    });
    for (const [portRange, listens] of [
        ["80", true],
        ["1-100", true],
        ["80-80", true],
        ["1-79", false],
        ["81-90", false],
        [undefined, false],
    ] as const) {
        it(`portRange ${String(portRange)} ${listens ? "listens" : "does not listen"} on port 80`, async () => {
            // The port-80 proxy serves the HTTPS map: a violation wherever the rule listens on 80.
            const outcome = await judge((s) => {
                const proxy = changed(s.httpProxy, {}, { urlMap: [s.map] });
                const rule80 = changed(s.httpRule, { portRange }, { target: [proxy] });
                return swap(swap(s.all, s.httpProxy, proxy), s.httpRule, rule80);
            });
            assert.equal(outcome.violations.length, listens ? 1 : 0, outcome.violations.join("\n"));
            assert.equal(outcome.notApplicable !== undefined, !listens);
        });
    }
    for (const [label, changes] of [
        ["also a default service", { defaultService: "projects/p/global/backendServices/b" }],
        ["also path matchers", { pathMatchers: [{ name: "m", defaultService: "b" }] }],
        ["also host rules", { hostRules: [{ hosts: ["*"], pathMatcher: "m" }] }],
        ["a redirect to plain HTTP", { defaultUrlRedirect: { httpsRedirect: false } }],
    ] as const) {
        it(`rejects a port-80 URL map with ${label}`, async () => {
            const outcome = await judge((s) => {
                const map = changed(s.redirectMap, changes);
                return swap(swap(s.all, s.redirectMap, map), s.httpProxy, changed(s.httpProxy, {}, { urlMap: [map] }));
            });
            assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
        });
    }
    it("leaves a port-80 rule whose target, or whose proxy's URL map, is outside the stack", async () => {
        const noTarget = await judge((s) => swap(s.all, s.httpRule, changed(s.httpRule, {}, { target: [] })));
        assert.deepEqual(noTarget.violations, []);
        const noMap = await judge((s) => swap(s.all, s.httpProxy, changed(s.httpProxy, {}, { urlMap: [] })));
        assert.deepEqual(noMap.violations, []);
    });
    it("rejects a port-80 rule that points straight at something other than an HTTP proxy", async () => {
        const outcome = await judge((s) => swap(s.all, s.httpRule, changed(s.httpRule, {}, { target: [s.map] })));
        assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
    });
});

describe("policies: enforce-modern-tls", () => {
    const rule = policyNamed("enforce-modern-tls") as StackValidationPolicy;
    it("flags an HTTPS proxy without an SSL policy in a stack that has none", async () => {
        const s = compliantStack();
        const bare = changed(s.httpsProxy, { sslPolicy: undefined }, { urlMap: [s.map] });
        const outcome = await runStackPolicy(
            rule,
            swap(s.all, s.httpsProxy, bare).filter((r) => r !== s.sslPolicy),
        );
        assert.equal(outcome.notApplicable, undefined);
        assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
    });
    it("flags an SSL policy below TLS 1.2 even when no proxy is in the stack, and not one at 1.2", async () => {
        const s = compliantStack();
        const old = await runStackPolicy(rule, [changed(s.sslPolicy, { minTlsVersion: "TLS_1_1" })]);
        assert.equal(old.violations.length, 1, old.violations.join("\n"));
        const modern = await runStackPolicy(rule, [changed(s.sslPolicy, { minTlsVersion: "TLS_1_2" })]);
        assert.deepEqual(modern.violations, []);
        assert.equal(modern.notApplicable, undefined);
    });
    it("does not apply to a stack with neither", async () => {
        assert.ok((await runStackPolicy(rule, [websocketBackend()])).notApplicable);
    });
});

describe("policies: the fact helpers, each answer and its edges", () => {
    it("headerNameProblem: a name with a space is invalid, a hop-by-hop one refused, a plain one fine", () => {
        assert.equal(headerNameProblem("Bad Name"), "is not a valid HTTP header name");
        assert.ok(headerNameProblem("Connection"));
        assert.ok(headerNameProblem("keep-alive"));
        assert.equal(headerNameProblem("X-Chat-Region"), undefined);
    });
    it("pathPatternProblem: a * only right after the final /", () => {
        assert.equal(pathPatternProblem("/ws/*"), undefined);
        assert.ok(pathPatternProblem("/w*s"));
        assert.ok(pathPatternProblem("/ws*"));
        assert.ok(pathPatternProblem("/*/ws"));
    });
    it("regionalSurge is one instance per zone", () => {
        assert.equal(regionalSurge(["us-central1-a", "us-central1-b", "us-central1-c"]), 3);
    });
    it("serviceAccountEmail spells NAME@PROJECT.iam.gserviceaccount.com", () => {
        assert.equal(serviceAccountEmail("chat-vm", "example-chat"), "chat-vm@example-chat.iam.gserviceaccount.com");
    });
    it("artifactRegistryProject reads the project of LOCATION-docker.pkg.dev/PROJECT/... only", () => {
        assert.equal(artifactRegistryProject("us-central1-docker.pkg.dev/example-chat/repo/app:1"), "example-chat");
        for (const image of [
            "gcr.io/us-docker.pkg.dev/example-chat/repo/app",
            "us-docker.pkg.dev/abc/repo/app",
            "us-docker.pkg.dev/1example/repo/app",
            "us-docker.pkg.dev/example-chat-/repo/app",
            "us-docker.pkg.dev/Example-chat/repo/app",
            "us-docker.pkg.dev/example-chat",
            "docker.io/library/node",
        ]) {
            assert.equal(artifactRegistryProject(image), undefined, image);
        }
    });
    it("runtimeStage: supported before deprecation, deprecated on its day, decommissioned on its day", () => {
        assert.equal(runtimeStage("nodejs26", "2030-01-01"), "supported");
        assert.equal(runtimeStage("nodejs22", "2027-04-29"), "supported");
        assert.equal(runtimeStage("nodejs22", "2027-04-30"), "deprecated");
        assert.equal(runtimeStage("nodejs22", "2027-10-30"), "deprecated");
        assert.equal(runtimeStage("nodejs22", "2027-10-31"), "decommissioned");
        assert.equal(runtimeStage("nodejs8", "2020-01-01"), "unknown");
    });
});

describe("policies: enforce-websocket-scale-in, one property of the group at a time", () => {
    const rule = policyNamed("enforce-websocket-scale-in") as StackValidationPolicy;
    const ZONAL_MIG = "gcp:compute/instanceGroupManager:InstanceGroupManager";
    /** The compliant stack with the WebSocket backend's group, changed by `change`. */
    const judge = (change: (g: ReturnType<typeof websocketGroup>) => TestResource[]) =>
        runStackPolicy(rule, [...compliantStack().all, ...change(websocketGroup())]);
    const unlinked = (autoscaler: TestResource, changes: Props) => ({ ...changed(autoscaler, changes), links: {} });
    const NO_SCALE_IN = { autoscalingPolicy: { minReplicas: 2, maxReplicas: 4 } };

    it("passes the compliant group and autoscaler, and does not apply to a stack without a group", async () => {
        const ok = await judge((g) => [g.mig, g.autoscaler]);
        assert.deepEqual([ok.violations, ok.notApplicable], [[], undefined]);
        assert.ok((await judge(() => [])).notApplicable);
    });
    it("a regional group without an updatePolicy redistributes by default; a zonal one never does", async () => {
        const regional = await judge((g) => {
            const mig = changed(g.mig, { updatePolicy: undefined });
            return [mig, { ...g.autoscaler, links: { target: [mig] } }];
        });
        assert.equal(regional.violations.length, 1, regional.violations.join("\n"));
        const zonal = await judge((g) => {
            const mig = { ...changed(g.mig, { updatePolicy: undefined }), type: ZONAL_MIG };
            return [mig, { ...g.autoscaler, links: { target: [mig] } }];
        });
        assert.deepEqual(zonal.violations, []);
    });
    it("an autoscaler without a policy at all has no scaleInControl", async () => {
        const outcome = await judge((g) => [g.mig, changed(g.autoscaler, { autoscalingPolicy: undefined })]);
        assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
    });
    for (const [label, target] of [
        ["its group's name", "projects/example-chat/regions/us-central1/instanceGroupManagers/chat-api"],
        ["its group's logical name", "chat-api-mig"],
    ] as const) {
        it(`finds an autoscaler that names the group only by ${label}`, async () => {
            const outcome = await judge((g) => [g.mig, unlinked(g.autoscaler, { target, ...NO_SCALE_IN })]);
            assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
        });
    }
    it("leaves alone an autoscaler of another group, or of none", async () => {
        for (const target of ["projects/example-chat/regions/us-central1/instanceGroupManagers/other", undefined]) {
            const outcome = await judge((g) => [g.mig, unlinked(g.autoscaler, { target, ...NO_SCALE_IN })]);
            assert.deepEqual(outcome.violations, [], String(target));
        }
    });
});

describe("policies: disallow-invalid-header-actions, one entry at a time on the map", () => {
    const rule = policyNamed("disallow-invalid-header-actions") as ResourceValidationPolicy;
    const withAction = (headerAction: Props) => changed(websocketUrlMap(websocketBackend()), { headerAction });
    const count = async (headerAction: Props) => {
        const outcome = await runResourcePolicy(rule, withAction(headerAction));
        assert.equal(outcome.notApplicable, undefined);
        return outcome.violations.length;
    };
    const add = (headerName: unknown) => ({ requestHeadersToAdds: [{ headerName, headerValue: "x", replace: true }] });
    it("rejects adding a Proxy-* header and passes adding a plain one", async () => {
        assert.equal(await count(add("Proxy-Debug")), 1);
        assert.equal(await count(add("X-Chat-Region")), 0);
    });
    it("rejects removing Host, and a Sec-WebSocket-* request header on a map serving WebSocket paths", async () => {
        assert.equal(await count({ requestHeadersToRemoves: ["Host"] }), 1);
        assert.equal(await count({ requestHeadersToRemoves: ["Sec-WebSocket-Extensions"] }), 1);
    });
    it("passes removing a response Upgrade header, or a request header outside the handshake", async () => {
        assert.equal(await count({ responseHeadersToRemoves: ["Upgrade"] }), 0);
        assert.equal(await count({ requestHeadersToRemoves: ["X-Debug"] }), 0);
    });
    it("skips entries without a name instead of failing on them", async () => {
        assert.equal(
            await count({ requestHeadersToRemoves: [42], requestHeadersToAdds: [null, { headerValue: "x" }] }),
            0,
        );
        assert.equal(await count({ requestHeadersToRemoves: "Host" }), 0);
    });
    /** The map's first path matcher changed; routes and actions below it judged where they sit. */
    const withMatcher = (changes: Props, map = websocketUrlMap(websocketBackend())) => {
        const matchers = map.props.pathMatchers as Props[];
        return changed(map, { pathMatchers: [{ ...matchers[0], ...changes }, ...matchers.slice(1)] });
    };
    const judgeMap = async (map: TestResource) => {
        const outcome = await runResourcePolicy(rule, map);
        assert.equal(outcome.notApplicable, undefined);
        return outcome.violations;
    };
    const removesUpgrade = { requestHeadersToRemoves: ["Upgrade"] };
    const weighted = (headerAction?: Props) => ({
        timeout: { seconds: "30", nanos: 0 },
        weightedBackendServices: [{ backendService: "s", weight: 100, ...(headerAction ? { headerAction } : {}) }],
    });
    it("rejects a path matcher's removal of a handshake header: it applies to the WebSocket path rule", async () => {
        const found = await judgeMap(withMatcher({ headerAction: removesUpgrade }));
        assert.equal(found.length, 1);
        assert.match(found[0], /pathMatchers\[0\]\.headerAction\.requestHeadersToRemoves\[0\] is "Upgrade"/);
    });
    it("judges the weighted backends under a path matcher's default route and under a route rule", async () => {
        const matcherDefault = await judgeMap(withMatcher({ defaultRouteAction: weighted(add("Proxy-Debug")) }));
        assert.match(
            matcherDefault.join("\n"),
            /pathMatchers\[0\]\.defaultRouteAction\.weightedBackendServices\[0\]\.headerAction\.requestHeadersToAdds\[0\]\.headerName is "Proxy-Debug"/,
        );
        const ruleWeighted = await judgeMap(
            withMatcher({
                routeRules: [
                    { priority: 1, matchRules: [{ prefixMatch: "/api" }], routeAction: weighted(add("Proxy-Debug")) },
                ],
            }),
        );
        assert.match(
            ruleWeighted.join("\n"),
            /routeRules\[0\]\.routeAction\.weightedBackendServices\[0\]\.headerAction/,
        );
    });
    it("passes weighted backends without a header action, and a path rule without a route action", async () => {
        const map = withMatcher({ defaultRouteAction: weighted() });
        const rules = (map.props.pathMatchers as Props[])[0].pathRules as Props[];
        const bare = withMatcher({ pathRules: [...rules, { paths: ["/api"], service: "s" }] }, map);
        assert.deepEqual(await judgeMap(bare), []);
    });
    it("applies a route rule's header action to that route only", async () => {
        const wsRule = {
            priority: 1,
            service: "s",
            matchRules: [{ prefixMatch: "/ws" }, { prefixMatch: "/websocket" }],
        };
        const plainRule = { priority: 2, service: "s", matchRules: [{ prefixMatch: "/api" }] };
        const on = (rules: Props[]) => judgeMap(withMatcher({ pathRules: undefined, routeRules: rules }));
        assert.deepEqual(await on([wsRule, { ...plainRule, headerAction: removesUpgrade }]), []);
        const found = await on([{ ...wsRule, headerAction: removesUpgrade }, plainRule]);
        assert.equal(found.length, 1);
        assert.match(found[0], /routeRules\[0\]\.headerAction\.requestHeadersToRemoves\[0\] is "Upgrade"/);
    });
    it("counts a WebSocket path served by any route the header action reaches, not only by all of them", async () => {
        const map = websocketUrlMap(websocketBackend());
        const matcher = (map.props.pathMatchers as Props[])[0];
        const second = { ...structuredClone(matcher), name: "second" };
        const twoHosts = changed(map, {
            hostRules: [...(map.props.hostRules as Props[]), { hosts: ["other.example.com"], pathMatcher: "second" }],
            pathMatchers: [{ ...matcher, headerAction: removesUpgrade }, second],
        });
        assert.equal((await judgeMap(twoHosts)).length, 1);
    });
    it("does not apply to a map that only redirects", async () => {
        const redirect = compliantStack().redirectMap;
        const outcome = await runResourcePolicy(rule, changed(redirect, { headerAction: add("Proxy-Debug") }));
        assert.ok(outcome.notApplicable);
    });
});
