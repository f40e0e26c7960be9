import { strict as assert } from "assert";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { sdkProxy } from "../../policies/lib/sdk-proxy";
import {
    changed,
    compliantStack,
    newStack,
    serverlessChain,
    swap,
    T,
    websocketBackend,
    websocketUrlMap,
} from "./fixtures";
import { levelOf, policyNamed, runResourcePolicy, runStackPolicy, TestResource, urnOf } from "./harness";

// The rules drawn from Google Cloud's API reference for backends, routes and proxy headers: each
// starts from the compliant stack and breaks one property.

const stackRule = (name: string) => policyNamed(name) as StackValidationPolicy;
const resourceRule = (name: string) => policyNamed(name) as ResourceValidationPolicy;
type Props = Record<string, unknown>;
const matcherOf = (map: TestResource) => (map.props.pathMatchers as Props[])[0];
const rulesOf = (map: TestResource) => matcherOf(map).pathRules as Props[];

async function stackViolations(name: string, resources: TestResource[], config = {}): Promise<string[]> {
    const outcome = await runStackPolicy(stackRule(name), resources, config);
    assert.equal(outcome.notApplicable, undefined, `not applicable: ${outcome.notApplicable}`);
    assert.equal(outcome.cantRun, undefined, outcome.cantRun);
    return outcome.violations;
}

describe("policies: backend protocol, serverless limits, HTTP routes, proxy headers, rate balancing", () => {
    describe("enforce-websocket-backend-protocol (mandatory)", () => {
        it("passes HTTP, HTTPS and an unset protocol (the API's HTTP) on the WebSocket backend", async () => {
            for (const protocol of ["HTTP", "HTTPS", undefined]) {
                const s = compliantStack();
                assert.deepEqual(
                    await stackViolations(
                        "enforce-websocket-backend-protocol",
                        swap(s.all, s.ws, changed(s.ws, { protocol })),
                    ),
                    [],
                    String(protocol),
                );
            }
        });
        it("rejects an HTTP2 WebSocket backend, naming the route that sends WebSocket paths to it", async () => {
            const s = compliantStack();
            const http2 = changed(s.ws, { protocol: "HTTP2" });
            const outcome = await runStackPolicy(
                stackRule("enforce-websocket-backend-protocol"),
                swap(s.all, s.ws, http2),
            );
            assert.equal(levelOf(stackRule("enforce-websocket-backend-protocol")), "mandatory");
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /^BackendService "chat-api-backend": protocol is "HTTP2" on a backend that URLMap "chat-https" pathMatchers\[0\]\.pathRules\[0\] \(\/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) sends WebSocket paths to; required: HTTP or HTTPS\./,
            );
            assert.deepEqual(outcome.urns, [urnOf(http2)]);
        });
        it("rejects H2C and GRPC as well", async () => {
            for (const protocol of ["H2C", "GRPC"]) {
                const s = compliantStack();
                assert.equal(
                    (
                        await stackViolations(
                            "enforce-websocket-backend-protocol",
                            swap(s.all, s.ws, changed(s.ws, { protocol })),
                        )
                    ).length,
                    1,
                    protocol,
                );
            }
        });
        it("leaves an HTTP2 backend alone when it serves only non-WebSocket paths", async () => {
            const ws = websocketBackend();
            const grpc: TestResource = {
                ...changed(websocketBackend(), { name: "chat-grpc-backend-1", protocol: "HTTP2" }),
                name: "chat-grpc-backend",
            };
            const map = websocketUrlMap(ws, [{ paths: ["/grpc", "/grpc/*"], backend: grpc }]);
            assert.deepEqual(await stackViolations("enforce-websocket-backend-protocol", [ws, grpc, map]), []);
        });
        it("says it can't run at preview when the routing is unknown and some backend of the map is HTTP2", async () => {
            const ws = changed(websocketBackend(), { protocol: "HTTP2" });
            const map = websocketUrlMap(ws);
            const rules = rulesOf(map).map((r) => ({ ...r, service: sdkProxy.unknownStringValue }));
            const unknown = changed(map, { pathMatchers: [{ ...matcherOf(map), pathRules: rules }] });
            const outcome = await runStackPolicy(stackRule("enforce-websocket-backend-protocol"), [ws, unknown]);
            assert.deepEqual(outcome.violations, []);
            assert.match(outcome.cantRun ?? "", /can't run policy 'enforce-websocket-backend-protocol' during preview/);
        });
    });

    describe("enforce-serverless-backend-limits: health checks, balancing mode and capacity (mandatory)", () => {
        it("rejects a health check on a serverless backend", async () => {
            const s = compliantStack();
            const bad = changed(s.auth.backend, { healthChecks: "projects/example-chat/global/healthChecks/auth-hc" });
            const violations = await stackViolations(
                "enforce-serverless-backend-limits",
                swap(s.all, s.auth.backend, bad),
            );
            assert.equal(levelOf(stackRule("enforce-serverless-backend-limits")), "mandatory");
            assert.deepEqual(violations.length, 1);
            assert.match(
                violations[0],
                /BackendService "chat-auth-backend": healthChecks is "projects\/example-chat\/global\/healthChecks\/auth-hc"; required: unset\. Fix: remove healthChecks/,
            );
        });
        it("rejects a balancing mode and capacity settings on a serverless NEG backend, in one message per backend", async () => {
            const s = compliantStack();
            const group = (s.auth.backend.props.backends as Props[])[0].group;
            const bad = changed(s.auth.backend, {
                backends: [{ group, balancingMode: "RATE", maxRatePerEndpoint: 100 }],
            });
            const violations = await stackViolations(
                "enforce-serverless-backend-limits",
                swap(s.all, s.auth.backend, bad),
            );
            assert.equal(violations.length, 1);
            assert.match(
                violations[0],
                /backends\[0\]\.balancingMode, backends\[0\]\.maxRatePerEndpoint is balancingMode "RATE", maxRatePerEndpoint 100; required: unset/,
            );
        });
    });

    describe("disallow-long-http-routes (advisory)", () => {
        it("passes the program's shape: WebSocket paths at 86400 s, every other route and the defaults at 30 s", async () => {
            assert.equal(levelOf(stackRule("disallow-long-http-routes")), "advisory");
            assert.deepEqual(await stackViolations("disallow-long-http-routes", compliantStack().all), []);
        });
        it("flags a default route with no timeout of its own on the 24 h WebSocket backend", async () => {
            const s = compliantStack();
            const map = changed(s.map, { pathMatchers: [{ ...matcherOf(s.map), defaultRouteAction: undefined }] });
            const violations = await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map));
            assert.equal(violations.length, 1);
            assert.match(
                violations[0],
                /^URLMap "chat-https": pathMatchers\[0\]\.defaultService is a route serving no WebSocket path that waits up to 86400 s: no route timeout in effect, so backend BackendService "chat-api-backend" timeoutSec applies \(86400 s\); required: at most 600 s\. Fix: set pathMatchers\[0\]\.defaultRouteAction\.timeout to 30 s/,
            );
        });
        it("flags a long route timeout on a plain path, and honours maxHttpTimeoutSec", async () => {
            const s = compliantStack();
            const map = structuredClone(s.map);
            rulesOf(map)[1].routeAction = { timeout: { seconds: "3600" } };
            const violations = await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map));
            assert.match(
                violations[0],
                /pathMatchers\[0\]\.pathRules\[1\] is a route serving no WebSocket path that waits up to 3600 s: routeAction\.timeout is 3600 s/,
            );
            assert.deepEqual(
                await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map), {
                    maxHttpTimeoutSec: 3600,
                }),
                [],
            );
        });
        it("never judges the WebSocket routes, whatever their timeout", async () => {
            const s = compliantStack();
            const violations = await stackViolations("disallow-long-http-routes", s.all, { maxHttpTimeoutSec: 1 });
            assert.deepEqual(
                violations.map((v) => v.split(" is ")[0]),
                [
                    'URLMap "chat-https": defaultService',
                    'URLMap "chat-https": pathMatchers[0].defaultService',
                    'URLMap "chat-https": pathMatchers[0].pathRules[1]',
                ],
            );
        });
        it("ignores route timeouts on the classic scheme, where the backend's timeoutSec is what applies", async () => {
            const s = compliantStack();
            const classic = changed(s.ws, { loadBalancingScheme: "EXTERNAL" });
            const violations = await stackViolations("disallow-long-http-routes", swap(s.all, s.ws, classic));
            assert.deepEqual(
                violations.map((v) => v.split(" is ")[0]),
                ['URLMap "chat-https": defaultService', 'URLMap "chat-https": pathMatchers[0].defaultService'],
            );
            assert.match(violations[0], /Fix: move to EXTERNAL_MANAGED and set a route timeout/);
        });
        it("counts a serverless backend at Cloud Run's own request timeout", async () => {
            const s = compliantStack();
            const map = structuredClone(s.map);
            delete rulesOf(map)[1].routeAction;
            assert.deepEqual(
                await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map)),
                [],
                "Cloud Run's 60 s is under 600 s",
            );
            assert.match(
                (
                    await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map), {
                        maxHttpTimeoutSec: 30,
                    })
                )[0],
                /serverless backend BackendService "chat-auth-backend" waits up to 60 s/,
            );
        });
        it("flags a plain path that holds connections as long as a WebSocket route, naming its paths", async () => {
            const s = compliantStack();
            const map = structuredClone(s.map);
            rulesOf(map)[1].routeAction = { timeout: { seconds: "86400", nanos: 0 } };
            const violations = await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map));
            assert.equal(violations.length, 1);
            assert.match(
                violations[0],
                /^URLMap "chat-https": pathMatchers\[0\]\.pathRules\[1\] \(serving \/auth, \/auth\/\*\) is a route that holds a connection 86400 s \(routeAction\.timeout is 86400 s\), as long as a WebSocket route/,
            );
        });
        it("judges a route timeout even when the route's backend is outside the stack, and nothing else there", async () => {
            const s = compliantStack();
            const elsewhere = "projects/example-chat/global/backendServices/elsewhere";
            for (const [routeAction, expected] of [
                [{ timeout: { seconds: "3600", nanos: 0 } }, 1],
                [undefined, 0],
            ] as const) {
                const map = structuredClone(s.map);
                rulesOf(map).push({
                    paths: ["/elsewhere"],
                    service: elsewhere,
                    ...(routeAction ? { routeAction } : {}),
                });
                const violations = await stackViolations("disallow-long-http-routes", swap(s.all, s.map, map));
                assert.equal(violations.length, expected, JSON.stringify(routeAction));
                violations.forEach((v) =>
                    assert.match(
                        v,
                        /pathMatchers\[0\]\.pathRules\[2\] is a route serving no WebSocket path that waits up to 3600 s/,
                    ),
                );
            }
        });

        describe("a brand-new stack, where every service reference is unknown at preview", () => {
            /** The compliant stack with /auth left without a route timeout and the WebSocket backend at `wsTimeoutSec`. */
            function fresh(wsTimeoutSec: number): TestResource[] {
                const s = compliantStack();
                const ws = changed(s.ws, { timeoutSec: wsTimeoutSec });
                const map = structuredClone(s.map);
                delete rulesOf(map)[1].routeAction;
                return newStack({ ...s, ws, map, all: swap(swap(s.all, s.ws, ws), s.map, map) });
            }
            const run = (resources: TestResource[], config = {}) =>
                runStackPolicy(stackRule("disallow-long-http-routes"), resources, config);

            it("reads the reference (can't run) when one reachable backend would wait too long and another would not", async () => {
                const outcome = await run(fresh(86400));
                assert.match(outcome.cantRun ?? "", /can't run policy 'disallow-long-http-routes' during preview/);
                assert.deepEqual(outcome.violations, []);
            });
            it("passes without reading it when every reachable backend waits at most maxHttpTimeoutSec", async () => {
                for (const wsTimeoutSec of [30, 600]) {
                    const outcome = await run(fresh(wsTimeoutSec));
                    assert.equal(outcome.cantRun, undefined, String(wsTimeoutSec));
                    assert.deepEqual(outcome.violations, [], String(wsTimeoutSec));
                }
            });
            it("judges the first backend's wait when none is long: WebSocket-long under a small minTimeoutSec", async () => {
                const outcome = await run(fresh(30), { minTimeoutSec: 30 });
                assert.equal(outcome.cantRun, undefined);
                assert.equal(outcome.violations.length, 1);
                assert.match(
                    outcome.violations[0],
                    /pathMatchers\[0\]\.pathRules\[1\] \(serving \/auth, \/auth\/\*\) is a route that holds a connection 30 s \(no route timeout in effect, so backend BackendService "chat-api-backend" timeoutSec applies/,
                );
            });
            it("flags a plain route every reachable backend would hold too long, without reading the reference", async () => {
                const s = compliantStack();
                const map = structuredClone(s.map);
                delete rulesOf(map)[1].routeAction;
                // Cloud Run's own request timeout raised to the serverless maximum: both backends hold long.
                const cloudRun = changed(s.auth.run, {
                    template: { ...(s.auth.run.props.template as Props), timeout: "3600s" },
                });
                const outcome = await run(
                    newStack({ ...s, map, all: swap(swap(s.all, s.map, map), s.auth.run, cloudRun) }),
                );
                assert.equal(outcome.cantRun, undefined);
                assert.equal(outcome.violations.length, 1);
                assert.match(
                    outcome.violations[0],
                    /pathMatchers\[0\]\.pathRules\[1\] \(serving \/auth, \/auth\/\*\) is a route that holds a connection 86400 s .*as for every backend the map uses/,
                );
            });
        });
    });

    describe("disallow-duplicate-proxy-headers (advisory)", () => {
        it("passes the program's URL map, where X-Forwarded-Proto replaces", async () => {
            assert.equal(levelOf(resourceRule("disallow-duplicate-proxy-headers")), "advisory");
            const outcome = await runResourcePolicy(
                resourceRule("disallow-duplicate-proxy-headers"),
                compliantStack().map,
            );
            assert.deepEqual(outcome.violations, []);
        });
        it("flags X-Forwarded-Proto added with replace false, at any header-action level", async () => {
            const s = compliantStack();
            const headers = {
                requestHeadersToAdds: [{ headerName: "x-forwarded-proto", headerValue: "https", replace: false }],
            };
            const map = changed(s.map, { headerAction: headers });
            const outcome = await runResourcePolicy(resourceRule("disallow-duplicate-proxy-headers"), map);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /URLMap "chat-https": headerAction\.requestHeadersToAdds\[0\]\.replace is false for x-forwarded-proto; required: true/,
            );
        });
        it("flags X-Forwarded-Proto or Via as a backend custom request header, but not an application header", async () => {
            const outcome = await runResourcePolicy(
                resourceRule("disallow-duplicate-proxy-headers"),
                changed(websocketBackend(), {
                    customRequestHeaders: ["X-Forwarded-Proto: https", "Via: me", "X-Client-Region: {client_region}"],
                }),
            );
            assert.deepEqual(
                outcome.violations.map((v) => /customRequestHeaders\[(\d)\]/.exec(v)?.[1]),
                ["0", "1"],
            );
        });
        it("reads the header actions of a path matcher, a route rule and a route rule's weighted backends", async () => {
            const s = compliantStack();
            const bad = (headerName: string) => ({
                requestHeadersToAdds: [{ headerValue: "no name" }, { headerName, headerValue: "x", replace: false }],
            });
            const matcher = (s.map.props.pathMatchers as Props[])[0];
            const map = changed(s.map, {
                pathMatchers: [
                    {
                        ...matcher,
                        headerAction: bad("X-Forwarded-Proto"),
                        routeRules: [
                            {
                                priority: 1,
                                service: "s",
                                matchRules: [{ prefixMatch: "/a" }],
                                headerAction: bad("Via"),
                            },
                            {
                                priority: 2,
                                matchRules: [{ prefixMatch: "/b" }],
                                routeAction: {
                                    weightedBackendServices: [
                                        { backendService: "s", weight: 100 },
                                        { backendService: "s", weight: 0, headerAction: bad("X-Forwarded-For") },
                                    ],
                                },
                            },
                        ],
                    },
                ],
            });
            const outcome = await runResourcePolicy(resourceRule("disallow-duplicate-proxy-headers"), map);
            assert.deepEqual(
                outcome.violations.map((v) => v.split(" is ")[0]),
                [
                    'URLMap "chat-https": pathMatchers[0].headerAction.requestHeadersToAdds[1].replace',
                    'URLMap "chat-https": pathMatchers[0].routeRules[0].headerAction.requestHeadersToAdds[1].replace',
                    'URLMap "chat-https": pathMatchers[0].routeRules[1].routeAction.weightedBackendServices[1].headerAction.requestHeadersToAdds[1].replace',
                ],
            );
        });
        it("reads a custom header's name around spaces, and skips an entry that is not a string", async () => {
            const outcome = await runResourcePolicy(
                resourceRule("disallow-duplicate-proxy-headers"),
                changed(websocketBackend(), { customRequestHeaders: [42, " Via : me"] }),
            );
            assert.deepEqual(
                outcome.violations.map((v) => /customRequestHeaders\[(\d)\]/.exec(v)?.[1]),
                ["1"],
            );
        });
    });

    describe("disallow-websocket-rate-balancing (advisory)", () => {
        it("flags RATE on the backend that serves WebSocket paths, with the trade-off", async () => {
            const s = compliantStack();
            const outcome = await runStackPolicy(stackRule("disallow-websocket-rate-balancing"), s.all);
            assert.equal(levelOf(stackRule("disallow-websocket-rate-balancing")), "advisory");
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /BackendService "chat-api-backend": backends\[0\]\.balancingMode is "RATE" on a backend that holds WebSockets; .*IN_FLIGHT, Beta in @pulumi\/gcp 9\.37/,
            );
        });
        it("leaves IN_FLIGHT, non-WebSocket and serverless backends alone", async () => {
            const s = compliantStack();
            const group = (s.ws.props.backends as Props[])[0].group;
            const inFlight = changed(s.ws, {
                backends: [{ group, balancingMode: "IN_FLIGHT", maxInFlightRequestsPerInstance: 1000 }],
            });
            assert.deepEqual(
                await stackViolations("disallow-websocket-rate-balancing", swap(s.all, s.ws, inFlight)),
                [],
            );
            const chain = serverlessChain("chat", "3600s");
            assert.deepEqual(
                await stackViolations("disallow-websocket-rate-balancing", [
                    chain.run,
                    chain.neg,
                    chain.backend,
                    websocketUrlMap(chain.backend),
                ]),
                [],
            );
            assert.equal(T.backendService, s.ws.type);
        });
    });
});
