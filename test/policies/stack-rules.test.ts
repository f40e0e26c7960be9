import { strict as assert } from "assert";
import { StackValidationPolicy } from "@pulumi/policy";
import { changed, compliantStack, serverlessChain, swap, websocketBackend, websocketUrlMap } from "./fixtures";
import { policyNamed, runStackPolicy, TestResource, urnOf } from "./harness";

const rule = (name: string) => policyNamed(name) as StackValidationPolicy;
const STACK_RULES = [
    "enforce-serverless-backend-limits",
    "enforce-websocket-lifetime",
    "disallow-classic-advanced-routing",
    "enforce-https-only",
    "enforce-modern-tls",
];

async function violations(name: string, resources: TestResource[], config = {}) {
    const outcome = await runStackPolicy(rule(name), resources, config);
    assert.equal(outcome.notApplicable, undefined, `not applicable: ${outcome.notApplicable}`);
    assert.equal(outcome.cantRun, undefined, outcome.cantRun);
    return outcome;
}

describe("policies: stack rules", () => {
    for (const name of STACK_RULES) {
        it(`${name}: passes the compliant load balancer and is not applicable to an unrelated stack`, async () => {
            assert.deepEqual((await violations(name, compliantStack().all)).violations, []);
            const outcome = await runStackPolicy(rule(name), [
                { type: "gcp:storage/bucket:Bucket", name: "logs", props: {} },
            ]);
            assert.deepEqual(outcome.violations, []);
            assert.ok(outcome.notApplicable, `${name} should say it does not apply`);
        });
    }

    describe("enforce-serverless-backend-limits", () => {
        it("rejects timeoutSec, load balancer affinity and a locality policy on a backend linked to a serverless NEG", async () => {
            const s = compliantStack();
            const bad = changed(s.auth.backend, {
                timeoutSec: 86400,
                sessionAffinity: "GENERATED_COOKIE",
                localityLbPolicy: "RING_HASH",
            });
            const outcome = await violations("enforce-serverless-backend-limits", swap(s.all, s.auth.backend, bad));
            assert.equal(outcome.violations.length, 3);
            assert.match(
                outcome.violations[0],
                /BackendService "chat-auth-backend": timeoutSec is 86400; required: unset\. Fix: remove timeoutSec .*Timeout sec is not supported for a backend service with Serverless network endpoint groups/,
            );
            assert.match(outcome.violations[1], /sessionAffinity is "GENERATED_COOKIE"; required: unset or NONE/);
            assert.match(outcome.violations[2], /localityLbPolicy is "RING_HASH"; required: unset/);
            assert.deepEqual(outcome.urns, Array(3).fill(urnOf(bad)));
        });
        it("finds the NEG by its self link when the dependency was not recorded (hand-written links)", async () => {
            const s = compliantStack();
            const bad = changed(s.auth.backend, { timeoutSec: 30 }, {});
            assert.equal(
                (await violations("enforce-serverless-backend-limits", swap(s.all, s.auth.backend, bad))).violations
                    .length,
                1,
            );
        });
        it("leaves instance-group backends alone", async () => {
            const s = compliantStack();
            const ws = changed(s.ws, { localityLbPolicy: "RING_HASH" });
            assert.deepEqual(
                (await violations("enforce-serverless-backend-limits", swap(s.all, s.ws, ws))).violations,
                [],
            );
        });
    });

    describe("enforce-websocket-lifetime", () => {
        it("rejects a route to a backend that cuts at 30 s when the route sets no timeout", async () => {
            const ws = changed(websocketBackend(), { timeoutSec: undefined });
            const map = websocketUrlMap(ws);
            const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
            delete (matcher.pathRules as Array<Record<string, unknown>>)[0].routeAction;
            const outcome = await violations("enforce-websocket-lifetime", [ws, map]);
            assert.equal(outcome.violations.length, 1, "one per rule, naming its WebSocket paths");
            assert.match(
                outcome.violations[0],
                /URLMap "chat-https": pathMatchers\[0\]\.pathRules\[0\] \(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: no routeAction.timeout in effect, so backend BackendService "chat-api-backend" timeoutSec applies \(unset, the API default 30 s\); required: at least 86400 s/,
            );
            assert.deepEqual(outcome.urns, [urnOf(map)]);
        });
        it("rejects a short route timeout even on a 24 h backend (the route wins)", async () => {
            const ws = websocketBackend();
            const map = websocketUrlMap(ws);
            const rules = (map.props.pathMatchers as Array<{ pathRules: Array<Record<string, unknown>> }>)[0].pathRules;
            rules[0].routeAction = { timeout: { seconds: "30" } };
            const outcome = await violations("enforce-websocket-lifetime", [ws, map]);
            assert.match(outcome.violations[0], /lifetime of 30 s: routeAction.timeout is 30 s/);
        });
        it("rejects WebSocket paths on Cloud Run: at most 3600 s, and here the service's own 300 s", async () => {
            const chain = serverlessChain("chat", "300s");
            const map = websocketUrlMap(chain.backend);
            const outcome = await violations("enforce-websocket-lifetime", [chain.run, chain.neg, chain.backend, map]);
            assert.match(
                outcome.violations[0],
                /lifetime of 300 s: backend BackendService "chat-chat-backend" is serverless: Cloud Run service "chat-chat-run" ends the WebSocket at its request timeout \(300 s, at most 3600 s\)/,
            );
            assert.deepEqual(
                (
                    await violations("enforce-websocket-lifetime", [chain.run, chain.neg, chain.backend, map], {
                        minTimeoutSec: 300,
                    })
                ).violations,
                [],
            );
        });
        it("follows the longest matching path: /ws/* on a short rule beats the default", async () => {
            const ws = websocketBackend();
            const short = changed(websocketBackend(), { name: "short-backend", timeoutSec: 30 });
            const shortResource = { ...short, name: "short" };
            const map = websocketUrlMap(ws);
            const rules = (map.props.pathMatchers as Array<{ pathRules: Array<Record<string, unknown>> }>)[0].pathRules;
            rules.push({
                paths: ["/websocket/*"],
                service: "projects/example-chat/global/backendServices/short-backend",
            });
            rules[0].paths = ["/ws", "/ws/*", "/websocket"];
            const outcome = await violations("enforce-websocket-lifetime", [
                ws,
                shortResource,
                { ...map, links: { pathMatchers: [ws, shortResource] } },
            ]);
            assert.equal(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /pathMatchers\[0\]\.pathRules\[1\] \(serving \/websocket\/\*\)/);
        });
        /** The WebSocket backend at 30 s and the map's WebSocket path rule changed. */
        function shortBackend(rule: Record<string, unknown>) {
            const ws = changed(websocketBackend(), { timeoutSec: 30 });
            const map = websocketUrlMap(ws);
            const rules = (map.props.pathMatchers as Array<{ pathRules: Array<Record<string, unknown>> }>)[0].pathRules;
            rules[0] = { ...rules[0], ...rule };
            return { ws, map };
        }
        it("lets a 24 h route timeout hold the socket on a backend whose own timeoutSec is short", async () => {
            const { ws, map } = shortBackend({ routeAction: { timeout: { seconds: "86400", nanos: 0 } } });
            assert.deepEqual((await violations("enforce-websocket-lifetime", [ws, map])).violations, []);
        });
        it("counts the backend's timeoutSec on the classic scheme, whatever the route says", async () => {
            const { ws, map } = shortBackend({ routeAction: { timeout: { seconds: "86400", nanos: 0 } } });
            const classic = changed(ws, { loadBalancingScheme: "EXTERNAL" });
            const outcome = await violations("enforce-websocket-lifetime", [classic, map]);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /lifetime of 30 s: no routeAction\.timeout in effect, so backend BackendService "chat-api-backend" timeoutSec applies \(30 s\)/,
            );
        });
        it("judges every backend of the map when the route's service names none of them, and says so", async () => {
            const { ws, map } = shortBackend({
                service: "projects/example-chat/global/backendServices/elsewhere",
                routeAction: undefined,
            });
            const outcome = await violations("enforce-websocket-lifetime", [ws, map]);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /lifetime of 30 s: .*timeoutSec applies \(30 s\) \(its service "projects\/example-chat\/global\/backendServices\/elsewhere" matches no backend of the stack by name, so every backend the map uses was judged\)/,
            );
        });
        it("rejects a short route timeout on a route whose backend is outside the stack", async () => {
            const map = changed(shortBackend({ routeAction: { timeout: { seconds: "30", nanos: 0 } } }).map, {}, {});
            const outcome = await violations("enforce-websocket-lifetime", [map]);
            assert.equal(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /pathRules\[0\] .*lifetime of 30 s: routeAction\.timeout is 30 s/);
        });
    });

    describe("disallow-classic-advanced-routing", () => {
        function classic() {
            const s = compliantStack();
            const ws = changed(s.ws, { loadBalancingScheme: "EXTERNAL" });
            return { s, all: swap(s.all, s.ws, ws) };
        }
        it("rejects the route timeout and header action of the incident report's classic EXTERNAL map", async () => {
            const { all } = classic();
            const outcome = await violations("disallow-classic-advanced-routing", all);
            assert.deepEqual(
                outcome.violations.map((v) => v.split(" is ")[0]),
                [
                    'URLMap "chat-https": defaultRouteAction.timeout',
                    'URLMap "chat-https": pathMatchers[0].headerAction',
                    'URLMap "chat-https": pathMatchers[0].defaultRouteAction.timeout',
                    'URLMap "chat-https": pathMatchers[0].pathRules[0].routeAction.timeout',
                    'URLMap "chat-https": pathMatchers[0].pathRules[1].routeAction.timeout',
                ],
            );
            assert.match(
                outcome.violations[1],
                /the classic scheme supports neither header actions nor route timeouts/,
            );
        });
        it("detects the classic scheme from the forwarding rule in front as well", async () => {
            const s = compliantStack();
            const rule443 = changed(s.httpsRule, { loadBalancingScheme: undefined });
            assert.equal(
                (await violations("disallow-classic-advanced-routing", swap(s.all, s.httpsRule, rule443))).violations
                    .length,
                5,
            );
        });
        it("allows urlRewrite on the classic scheme", async () => {
            const { s, all } = classic();
            const map = changed(s.map, {
                defaultRouteAction: undefined,
                pathMatchers: [
                    {
                        name: "m",
                        defaultService: "x",
                        pathRules: [
                            {
                                paths: ["/ws", "/ws/*"],
                                service: "x",
                                routeAction: { urlRewrite: { pathPrefixRewrite: "/" } },
                            },
                        ],
                    },
                ],
            });
            assert.deepEqual(
                (await violations("disallow-classic-advanced-routing", swap(all, s.map, map))).violations,
                [],
            );
        });
    });

    describe("enforce-https-only", () => {
        it("rejects port 80 leading to the serving URL map", async () => {
            const s = compliantStack();
            const proxy = changed(s.httpProxy, {}, { urlMap: [s.map] });
            const outcome = await violations("enforce-https-only", swap(s.all, s.httpProxy, proxy));
            assert.match(
                outcome.violations[0],
                /GlobalForwardingRule "chat-http-rule": target is a proxy whose URL map URLMap "chat-https" serves traffic over plain HTTP/,
            );
            assert.deepEqual(outcome.urns, [urnOf(s.httpRule)]);
        });
        it("rejects a redirect map that redirects without going to HTTPS, and a port range that includes 80", async () => {
            const s = compliantStack();
            const redirect = changed(s.redirectMap, { defaultUrlRedirect: { hostRedirect: "example.com" } });
            assert.equal(
                (await violations("enforce-https-only", swap(s.all, s.redirectMap, redirect))).violations.length,
                1,
            );
            const wide = changed(s.httpRule, { portRange: "1-1000" }, { target: [s.httpsProxy] });
            assert.match(
                (await violations("enforce-https-only", swap(s.all, s.httpRule, wide))).violations[0],
                /target is TargetHttpsProxy "chat-https-proxy", not an HTTP proxy with a redirect/,
            );
        });
    });

    describe("enforce-modern-tls", () => {
        it("flags an HTTPS proxy without an SSL policy", async () => {
            const s = compliantStack();
            const proxy = changed(s.httpsProxy, { sslPolicy: undefined }, { urlMap: [s.map] });
            assert.match(
                (await violations("enforce-modern-tls", swap(s.all, s.httpsProxy, proxy))).violations[0],
                /TargetHttpsProxy "chat-https-proxy": sslPolicy is unset \(Google's default policy, TLS 1.0 and up\)/,
            );
        });
        it("flags an SSL policy below TLS 1.2, naming the proxies that use it", async () => {
            const s = compliantStack();
            const weak = changed(s.sslPolicy, { minTlsVersion: "TLS_1_0" });
            assert.match(
                (await violations("enforce-modern-tls", swap(s.all, s.sslPolicy, weak))).violations[0],
                /SSLPolicy "chat-tls": minTlsVersion is "TLS_1_0", used by TargetHttpsProxy "chat-https-proxy"/,
            );
        });
    });
});
