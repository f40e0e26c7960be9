import { strict as assert } from "assert";
import { Diagnostic, resolvePolicyConfig, RunningPack } from "../../preview";
import {
    changed,
    compliantStack,
    newStack,
    serverlessChain,
    swap,
    T,
    UNKNOWN_STRING,
    websocketBackend,
    websocketGroup,
    websocketUrlMap,
} from "./fixtures";
import {
    isStackPolicy,
    policyNamed,
    runResourcePolicy,
    runStackPolicy,
    startPack,
    TestResource,
    toRecorded,
    violationText,
} from "./harness";

type Props = Record<string, unknown>;

/**
 * Each case starts from a compliant stack and breaks one property, then asks the real pack, in its
 * own process over the analyzer protocol (the offline preview's client), what the engine would show.
 */
describe("policies: break one property, through the real pack", function () {
    this.timeout(120_000);
    let pack: RunningPack;
    before(async () => {
        pack = await startPack();
    });
    after(() => pack?.stop());

    /** Every diagnostic of the pack over the stack, configured with the defaults and `fromStack` settings. */
    async function judge(resources: TestResource[], fromStack: Props = {}): Promise<Diagnostic[]> {
        await pack.configure(resolvePolicyConfig(await pack.info(), undefined, fromStack), {
            project: "websocket-lb",
            stack: "test",
        });
        return pack.analyze(toRecorded(resources));
    }
    const of = (diagnostics: Diagnostic[], policy: string) => diagnostics.filter((d) => d.policy === policy);
    /**
     * The same rule over the same resources in this process, as the other policy tests run
     * rules: the verdicts must be the pack's, and the mutation run's coverage reaches them here.
     */
    async function inProcess(policy: string, resources: TestResource[]): Promise<string[]> {
        const rule = policyNamed(policy);
        if (isStackPolicy(rule)) {
            return (await runStackPolicy(rule, resources)).violations;
        }
        const found: string[] = [];
        for (const r of resources) {
            found.push(...(await runResourcePolicy(rule, r)).violations);
        }
        return found;
    }
    /** The pack's verdicts of one policy, held equal to the same rule's in this process. */
    async function verdictsOf(policy: string, resources: TestResource[]): Promise<Diagnostic[]> {
        const found = of(await judge(resources), policy);
        assert.deepEqual(await inProcess(policy, resources), found.map(violationText));
        return found;
    }
    const cantRun = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => /can't run policy/.test(d.message));

    /** The compliant stack with the WebSocket backend's group and autoscaler in it. */
    function stack(): ReturnType<typeof compliantStack> & { group: ReturnType<typeof websocketGroup> } {
        const s = compliantStack();
        const group = websocketGroup();
        return { ...s, group, all: [...s.all, group.mig, group.autoscaler, group.firewall] };
    }
    const matcherOf = (map: TestResource) => (map.props.pathMatchers as Props[])[0];
    /** The map with its first path matcher changed. */
    const withMatcher = (map: TestResource, changes: Props) =>
        changed(map, { pathMatchers: [{ ...matcherOf(map), ...changes }] });

    describe("a brand-new stack (service references unknown at preview)", () => {
        it("the compliant stack, its references spelled from names known at preview: nothing to say but the RATE trade-off", async () => {
            // The program spells each reference from the service's project and auto-name
            // (infra/urlmap.ts), both known at a new stack's preview, as the fixture's are.
            const diagnostics = await judge(stack().all);
            assert.deepEqual(cantRun(diagnostics), []);
            assert.deepEqual(
                diagnostics.map((d) => d.policy),
                ["disallow-websocket-rate-balancing"],
            );
        });

        it("a 30 s WebSocket route timeout: mandatory enforce-websocket-lifetime on the route, without knowing its backend", async () => {
            const s = stack();
            const rules = (matcherOf(s.map).pathRules as Props[]).map((r, i) =>
                i === 0 ? { ...r, routeAction: { timeout: { seconds: "30", nanos: 0 } } } : r,
            );
            const map = withMatcher(s.map, { pathRules: rules });
            const diagnostics = await judge(newStack({ ...s, map, all: swap(s.all, s.map, map) }));
            assert.deepEqual(cantRun(diagnostics), []);
            const lifetime = of(diagnostics, "enforce-websocket-lifetime");
            assert.deepEqual(
                lifetime.map((d) => d.level),
                ["mandatory"],
            );
            assert.match(
                violationText(lifetime[0]),
                /^URLMap "chat-https": pathMatchers\[0\]\.pathRules\[0\] \(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: routeAction\.timeout is 30 s; required: at least 86400 s/,
            );
        });

        it("a route that depends on which backend it reaches still says it can't run, rather than guess", async () => {
            const s = stack();
            // The WebSocket rule without its own timeout: the serverless backend would be short, the
            // instance group would not, and which one it is is unknown.
            const rules = (matcherOf(s.map).pathRules as Props[]).map((r, i) =>
                i === 0 ? { paths: r.paths, service: UNKNOWN_STRING } : { ...r, service: UNKNOWN_STRING },
            );
            const map = withMatcher(changed(s.map, { defaultService: UNKNOWN_STRING }), {
                defaultService: UNKNOWN_STRING,
                pathRules: rules,
            });
            const diagnostics = await judge(swap(s.all, s.map, map));
            assert.deepEqual(
                cantRun(diagnostics).map((d) => d.policy),
                ["enforce-websocket-lifetime"],
            );
        });
    });

    describe("URL-map header actions, at every level", () => {
        const add = (headerName: string) => ({
            requestHeadersToAdds: [{ headerName, headerValue: "x", replace: true }],
        });
        const cases: Array<{ name: string; map: (map: TestResource) => TestResource; property: RegExp }> = [
            {
                name: "the path matcher adds Upgrade",
                map: (map) => withMatcher(map, { headerAction: add("Upgrade") }),
                property: /pathMatchers\[0\]\.headerAction\.requestHeadersToAdds\[0\]\.headerName is "Upgrade"/,
            },
            {
                name: "the URL map adds a response Proxy-Connection header",
                map: (map) =>
                    changed(map, {
                        headerAction: {
                            responseHeadersToAdds: [
                                { headerName: "Proxy-Connection", headerValue: "x", replace: false },
                            ],
                        },
                    }),
                property: /headerAction\.responseHeadersToAdds\[0\]\.headerName is "Proxy-Connection"/,
            },
            {
                name: "a route rule adds Host",
                map: (map) =>
                    withMatcher(map, {
                        pathRules: undefined,
                        routeRules: [
                            {
                                priority: 1,
                                matchRules: [{ prefixMatch: "/ws" }, { prefixMatch: "/websocket" }],
                                service: matcherOf(map).defaultService,
                                headerAction: add("Host"),
                                routeAction: { timeout: { seconds: "86400", nanos: 0 } },
                            },
                        ],
                    }),
                property: /routeRules\[0\]\.headerAction\.requestHeadersToAdds\[0\]\.headerName is "Host"/,
            },
            {
                name: "the default route's weighted backend adds X-Goog-Trace",
                map: (map) =>
                    changed(map, {
                        defaultService: undefined,
                        defaultRouteAction: {
                            timeout: { seconds: "30", nanos: 0 },
                            weightedBackendServices: [
                                {
                                    backendService: map.props.defaultService,
                                    weight: 100,
                                    headerAction: add("X-Goog-Trace"),
                                },
                            ],
                        },
                    }),
                property:
                    /defaultRouteAction\.weightedBackendServices\[0\]\.headerAction\.requestHeadersToAdds\[0\]\.headerName is "X-Goog-Trace"/,
            },
            {
                name: "the URL map removes Sec-WebSocket-Key, which the WebSocket paths need",
                map: (map) => changed(map, { headerAction: { requestHeadersToRemoves: ["Sec-WebSocket-Key"] } }),
                property:
                    /headerAction\.requestHeadersToRemoves\[0\] is "Sec-WebSocket-Key".*part of the WebSocket handshake/,
            },
            {
                name: "the WebSocket path rule's weighted backend removes Connection",
                map: (map) => {
                    const rules = (matcherOf(map).pathRules as Props[]).map((r, i) =>
                        i === 0
                            ? {
                                  paths: r.paths,
                                  routeAction: {
                                      timeout: { seconds: "86400", nanos: 0 },
                                      weightedBackendServices: [
                                          {
                                              backendService: r.service,
                                              weight: 100,
                                              headerAction: { requestHeadersToRemoves: ["Connection"] },
                                          },
                                      ],
                                  },
                              }
                            : r,
                    );
                    return withMatcher(map, { pathRules: rules });
                },
                property:
                    /pathRules\[0\]\.routeAction\.weightedBackendServices\[0\]\.headerAction\.requestHeadersToRemoves\[0\] is "Connection"/,
            },
        ];
        for (const c of cases) {
            it(`${c.name}: mandatory disallow-invalid-header-actions`, async () => {
                const s = stack();
                const found = await verdictsOf("disallow-invalid-header-actions", swap(s.all, s.map, c.map(s.map)));
                assert.deepEqual(
                    found.map((d) => d.level),
                    ["mandatory"],
                );
                assert.match(violationText(found[0]), c.property);
            });
        }

        it("the compliant map, and removing Upgrade on a route that serves no WebSocket path, pass", async () => {
            const s = stack();
            assert.deepEqual(await verdictsOf("disallow-invalid-header-actions", s.all), []);
            const rules = (matcherOf(s.map).pathRules as Props[]).map((r, i) =>
                i === 1
                    ? {
                          paths: r.paths,
                          routeAction: {
                              timeout: { seconds: "30", nanos: 0 },
                              weightedBackendServices: [
                                  {
                                      backendService: r.service,
                                      weight: 100,
                                      headerAction: { requestHeadersToRemoves: ["Upgrade"] },
                                  },
                              ],
                          },
                      }
                    : r,
            );
            const diagnostics = await verdictsOf(
                "disallow-invalid-header-actions",
                swap(s.all, s.map, withMatcher(s.map, { pathRules: rules })),
            );
            assert.deepEqual(diagnostics, []);
        });
    });

    it("a backend of regional NEGs that also has a health check is not told to set timeoutSec or an affinity; the stack phase names the health check", async () => {
        const s = stack();
        const backend = changed(s.auth.backend, { healthChecks: "projects/example-chat/global/healthChecks/hc" });
        const diagnostics = await judge(swap(s.all, s.auth.backend, backend));
        const on = (policy: string) =>
            of(diagnostics, policy)
                .filter((d) => d.urn.endsWith("::chat-auth-backend"))
                .map((d) => violationText(d));
        assert.deepEqual(on("enforce-backend-timeout"), []);
        assert.deepEqual(on("enforce-session-affinity"), []);
        assert.deepEqual(on("enforce-affinity-locality-policy"), []);
        const limits = on("enforce-serverless-backend-limits");
        assert.equal(limits.length, 1);
        assert.match(limits[0], /healthChecks is .*required: unset/);
    });

    describe("enforce-affinity-locality-policy: consistentHash only where Google's API text applies it", () => {
        for (const [scheme, advised] of [
            ["EXTERNAL_MANAGED", false],
            ["INTERNAL_SELF_MANAGED", true],
        ] as const) {
            it(`HTTP_COOKIE without a hashing locality policy on ${scheme}: consistentHash ${advised ? "advised" : "not advised"}`, async () => {
                const ws = changed(websocketBackend(), {
                    loadBalancingScheme: scheme,
                    sessionAffinity: "HTTP_COOKIE",
                    localityLbPolicy: undefined,
                });
                const found = of(await judge([ws]), "enforce-affinity-locality-policy").map(violationText);
                assert.equal(found.length, 1);
                const fix = /Fix: (.*), because/.exec(found[0])?.[1] ?? "";
                if (advised) {
                    assert.match(fix, /and consistentHash/);
                } else {
                    assert.doesNotMatch(fix, /and consistentHash/);
                    assert.match(
                        fix,
                        /only for INTERNAL_SELF_MANAGED and regional INTERNAL_MANAGED, not EXTERNAL_MANAGED/,
                    );
                }
            });
        }
    });

    describe("enforce-websocket-scale-in", () => {
        it("passes a group that never redistributes and an autoscaler with scaleInControl", async () => {
            assert.deepEqual(await verdictsOf("enforce-websocket-scale-in", stack().all), []);
        });
        it("flags proactive redistribution, named or left to the API's default", async () => {
            for (const updatePolicy of [{ instanceRedistributionType: "PROACTIVE" }, { type: "PROACTIVE" }]) {
                const s = stack();
                const mig = changed(s.group.mig, { updatePolicy });
                const autoscaler = { ...s.group.autoscaler, links: { target: [mig] } };
                const all = swap(swap(s.all, s.group.mig, mig), s.group.autoscaler, autoscaler);
                const found = await verdictsOf("enforce-websocket-scale-in", all);
                assert.deepEqual(
                    found.map((d) => [d.level, d.urn.split("::").pop()]),
                    [["advisory", "chat-api-mig"]],
                );
                assert.match(
                    violationText(found[0]),
                    /updatePolicy\.instanceRedistributionType is (unset \(PROACTIVE, the API's default\)|"PROACTIVE") behind WebSocket backend BackendService "chat-api-backend"/,
                );
            }
        });
        it("flags an autoscaler without scaleInControl", async () => {
            const s = stack();
            const policy = { ...(s.group.autoscaler.props.autoscalingPolicy as Props), scaleInControl: undefined };
            const autoscaler = changed(s.group.autoscaler, {
                autoscalingPolicy: JSON.parse(JSON.stringify(policy)) as Props,
            });
            const found = await verdictsOf("enforce-websocket-scale-in", swap(s.all, s.group.autoscaler, autoscaler));
            assert.deepEqual(
                found.map((d) => d.urn.split("::").pop()),
                ["chat-api-autoscaler"],
            );
            assert.match(violationText(found[0]), /autoscalingPolicy\.scaleInControl is unset/);
        });
        it("leaves alone a group behind a backend that serves no WebSocket path", async () => {
            const s = stack();
            const mig = changed(s.group.mig, { updatePolicy: {} });
            const plain = changed(websocketBackend(), { timeoutSec: 30, name: "plain-backend" });
            const ws = changed(websocketBackend(), {
                backends: [{ group: `projects/example-chat/regions/us-central1/networkEndpointGroups/other` }],
            });
            const map = websocketUrlMap(ws, [{ paths: ["/api", "/api/*"], backend: { ...plain, name: "plain" } }]);
            const found = await verdictsOf("enforce-websocket-scale-in", [ws, { ...plain, name: "plain" }, map, mig]);
            assert.deepEqual(found, []);
        });
    });

    describe("the stack's own WebSocket paths", () => {
        /** A stack that serves WebSockets at /chat: a day-long route the default /ws paths do not know. */
        function chatStack(): TestResource[] {
            const s = stack();
            const rules = (matcherOf(s.map).pathRules as Props[]).map((r, i) =>
                i === 0 ? { ...r, paths: ["/chat", "/chat/*"] } : r,
            );
            return swap(s.all, s.map, withMatcher(s.map, { pathRules: rules }));
        }
        it("judged against the default paths, a day-long route they do not list is an advisory naming websocketPaths", async () => {
            const found = of(await judge(chatStack()), "disallow-long-http-routes").map(violationText);
            assert.equal(found.length, 1);
            assert.match(
                found[0],
                /pathRules\[0\] \(serving \/chat, \/chat\/\*\) is a route that holds a connection 86400 s .* while the pack's websocketPaths \(\/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) do not list its paths/,
            );
        });
        it("judged against the stack's websocketPaths, the same stack passes", async () => {
            const diagnostics = await judge(chatStack(), { websocketPaths: ["/chat", "/chat/*"] });
            assert.deepEqual(of(diagnostics, "disallow-long-http-routes"), []);
            assert.deepEqual(of(diagnostics, "enforce-websocket-paths"), []);
        });
    });

    it("the remediation text follows the configured threshold", async () => {
        const s = stack();
        const ws = changed(s.ws, { timeoutSec: 600, affinityCookieTtlSec: undefined, sessionAffinity: "NONE" });
        await pack.configure(
            resolvePolicyConfig(await pack.info(), undefined, { minTimeoutSec: 3600, minAffinityTtlSec: 7200 }),
            { project: "websocket-lb", stack: "test" },
        );
        const diagnostics = await pack.analyze(toRecorded(swap(s.all, s.ws, ws)));
        const timeout = of(diagnostics, "enforce-backend-timeout").map(violationText);
        assert.match(timeout[0], /required: at least 3600\. Fix: set timeoutSec: 3600,/);
        const affinity = of(diagnostics, "enforce-session-affinity").map(violationText);
        assert.match(affinity[0], /Fix: set sessionAffinity: "GENERATED_COOKIE" with affinityCookieTtlSec: 7200,/);
        for (const d of [
            ...of(diagnostics, "enforce-backend-timeout"),
            ...of(diagnostics, "enforce-session-affinity"),
        ]) {
            assert.doesNotMatch(d.message, /86400/, d.message);
        }
    });

    it("remediates through the real pack, whose remediation reads the properties behind the SDK's secret-aware proxy", async () => {
        const s = stack();
        const ws = changed(s.ws, { timeoutSec: 30 });
        const config = resolvePolicyConfig(await pack.info());
        config["enforce-backend-timeout"] = { ...config["enforce-backend-timeout"], level: "remediate" };
        await pack.configure(config, { project: "websocket-lb", stack: "test" });
        const diagnostics = await pack.analyze(toRecorded(swap(s.all, s.ws, ws)));
        assert.deepEqual(
            of(diagnostics, "enforce-backend-timeout").map((d) => [d.level, d.urn.split("::").pop()]),
            [["remediate", "chat-api-backend"]],
        );
    });

    it("a serverless chain alone is untouched by the new rules", async () => {
        const chain = serverlessChain();
        const diagnostics = await judge([chain.run, chain.neg, chain.backend]);
        assert.deepEqual(of(diagnostics, "enforce-websocket-scale-in"), []);
        assert.deepEqual(of(diagnostics, "disallow-invalid-header-actions"), []);
        assert.equal(T.backendService, chain.backend.type);
    });
});
