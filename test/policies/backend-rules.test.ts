import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { changed, serverlessChain, T, websocketBackend } from "./fixtures";
import { policyNamed, remediate, runResourcePolicy, TestResource } from "./harness";

const rule = (name: string) => policyNamed(name) as ResourceValidationPolicy;
const sslPolicy: TestResource = { type: T.sslPolicy, name: "chat-tls", props: { minTlsVersion: "TLS_1_2" } };

async function violations(name: string, resource: TestResource, config = {}): Promise<string[]> {
    const outcome = await runResourcePolicy(rule(name), resource, config);
    assert.equal(outcome.notApplicable, undefined, `not applicable: ${outcome.notApplicable}`);
    assert.equal(outcome.cantRun, undefined);
    return outcome.violations;
}

async function assertNotApplicable(name: string, resource: TestResource, reason: RegExp) {
    const outcome = await runResourcePolicy(rule(name), resource);
    assert.deepEqual(outcome.violations, []);
    assert.match(outcome.notApplicable ?? "", reason);
}

const BACKEND_RULES = [
    "enforce-affinity-locality-policy",
    "enforce-backend-timeout",
    "enforce-session-affinity",
    "disallow-invalid-custom-headers",
    "disallow-excessive-timeout",
    "enforce-connection-draining",
    "disallow-affinity-with-utilization",
    "enforce-backend-logging",
    "disallow-http2-backend-protocol",
];

describe("policies: backend service rules", () => {
    for (const name of BACKEND_RULES) {
        it(`${name}: passes the compliant WebSocket backend and skips other resource types`, async () => {
            assert.deepEqual(await violations(name, websocketBackend()), []);
            await assertNotApplicable(name, sslPolicy, /applies only to BackendService, RegionBackendService/);
        });
    }

    describe("enforce-backend-timeout", () => {
        it("rejects an unset timeout as the 30 s default, naming resource, property, value, requirement, fix and reason", async () => {
            const [message] = await violations(
                "enforce-backend-timeout",
                changed(websocketBackend(), { timeoutSec: undefined }),
            );
            assert.equal(
                message,
                'BackendService "chat-api-backend": timeoutSec is unset (the API default, 30); required: at least 86400. ' +
                    "Fix: set timeoutSec: 86400, because for WebSockets timeoutSec is the connection's whole lifetime, idle or not, so the load balancer cuts every socket at that age.",
            );
        });
        it("rejects 86399 and accepts 86400 exactly, and honours minTimeoutSec", async () => {
            assert.equal(
                (await violations("enforce-backend-timeout", changed(websocketBackend(), { timeoutSec: 86399 })))
                    .length,
                1,
            );
            assert.deepEqual(
                await violations("enforce-backend-timeout", changed(websocketBackend(), { timeoutSec: 3600 }), {
                    minTimeoutSec: 3600,
                }),
                [],
            );
        });
        it("applies to RegionBackendService too", async () => {
            const regional = { ...changed(websocketBackend(), { timeoutSec: 30 }), type: T.regionBackendService };
            assert.match(
                (await violations("enforce-backend-timeout", regional))[0],
                /^RegionBackendService "chat-api-backend": timeoutSec is 30/,
            );
        });
        it("leaves serverless-backed services to enforce-serverless-backend-limits", async () => {
            await assertNotApplicable(
                "enforce-backend-timeout",
                serverlessChain().backend,
                /regional NEGs, which may be serverless.*enforce-serverless-backend-limits/,
            );
        });
        it("remediates by raising the timeout and touching nothing else", async () => {
            const fixed = await remediate(
                rule("enforce-backend-timeout"),
                changed(websocketBackend(), { timeoutSec: 30 }),
            );
            assert.deepEqual(fixed, { ...websocketBackend().props, timeoutSec: 86400 });
            assert.equal(await remediate(rule("enforce-backend-timeout"), websocketBackend()), undefined);
        });
    });

    describe("enforce-session-affinity", () => {
        const check = (changes: Record<string, unknown>, config = {}) =>
            violations("enforce-session-affinity", changed(websocketBackend(), changes), config);
        it("rejects NONE and unset", async () => {
            assert.match(
                (await check({ sessionAffinity: "NONE" }))[0],
                /sessionAffinity is "NONE"; required: one of GENERATED_COOKIE, .*Fix: set sessionAffinity: "GENERATED_COOKIE"/,
            );
            assert.match(
                (await check({ sessionAffinity: undefined, affinityCookieTtlSec: undefined }))[0],
                /sessionAffinity is unset \(NONE\)/,
            );
        });
        it("rejects an affinity outside allowedAffinities", async () => {
            const [message] = await check(
                { sessionAffinity: "CLIENT_IP" },
                { allowedAffinities: ["GENERATED_COOKIE"] },
            );
            assert.match(
                message,
                /sessionAffinity is "CLIENT_IP"; required: one of GENERATED_COOKIE \(the pack's allowedAffinities\)/,
            );
        });
        it("rejects a cookie TTL under the minimum, unset (a session cookie), or over the API's two weeks", async () => {
            assert.match(
                (await check({ affinityCookieTtlSec: 3600 }))[0],
                /affinityCookieTtlSec is 3600; required: at least 86400/,
            );
            assert.match(
                (await check({ affinityCookieTtlSec: undefined }))[0],
                /affinityCookieTtlSec is unset \(0, a session cookie\)/,
            );
            assert.match(
                (await check({ affinityCookieTtlSec: 1_209_601 }))[0],
                /affinityCookieTtlSec is 1209601; required: at most 1209600/,
            );
            assert.deepEqual(await check({ affinityCookieTtlSec: 1_209_600 }), []);
        });
        it("rejects affinities the classic EXTERNAL scheme lacks", async () => {
            const [message] = await check({
                loadBalancingScheme: "EXTERNAL",
                sessionAffinity: "HTTP_COOKIE",
                localityLbPolicy: undefined,
            });
            assert.match(
                message,
                /sessionAffinity is "HTTP_COOKIE" on loadBalancingScheme EXTERNAL; required: one of NONE, CLIENT_IP, GENERATED_COOKIE on the classic scheme\. Fix: set sessionAffinity: "GENERATED_COOKIE" with affinityCookieTtlSec: 86400, or move to loadBalancingScheme EXTERNAL_MANAGED/,
            );
            // An unset scheme is the classic one.
            assert.equal(
                (
                    await check({
                        loadBalancingScheme: undefined,
                        sessionAffinity: "STRONG_COOKIE_AFFINITY",
                        affinityCookieTtlSec: undefined,
                        strongSessionAffinityCookie: { name: "c", ttl: { seconds: 86400 } },
                    })
                ).length,
                1,
            );
        });
        it("rejects STRONG_COOKIE_AFFINITY without its cookie block, and accepts it with one", async () => {
            assert.match(
                (await check({ sessionAffinity: "STRONG_COOKIE_AFFINITY", affinityCookieTtlSec: undefined }))[0],
                /strongSessionAffinityCookie is unset/,
            );
            assert.deepEqual(
                await check({
                    sessionAffinity: "STRONG_COOKIE_AFFINITY",
                    affinityCookieTtlSec: undefined,
                    strongSessionAffinityCookie: { name: "lb", path: "/", ttl: { seconds: 86400 } },
                }),
                [],
            );
        });
        it("rejects the internal-only CLIENT_IP_NO_DESTINATION", async () => {
            assert.match(
                (await check({ sessionAffinity: "CLIENT_IP_NO_DESTINATION" }))[0],
                /exists only for internal passthrough load balancers/,
            );
        });
        it("rejects CLIENT_IP_PROTO and CLIENT_IP_PORT_PROTO on an HTTP(S) backend, on either scheme, naming what the scheme allows", async () => {
            for (const affinity of ["CLIENT_IP_PROTO", "CLIENT_IP_PORT_PROTO"]) {
                const [managed] = await check({ sessionAffinity: affinity, affinityCookieTtlSec: undefined });
                assert.match(
                    managed,
                    new RegExp(
                        `sessionAffinity is "${affinity}" on an HTTP\\(S\\) backend service \\(protocol HTTP\\); required: an affinity HTTP\\(S\\) load balancing supports on loadBalancingScheme EXTERNAL_MANAGED: NONE, CLIENT_IP, GENERATED_COOKIE, HEADER_FIELD, HTTP_COOKIE, STRONG_COOKIE_AFFINITY\\. .*cannot be used for HTTP\\(S\\) load balancing`,
                    ),
                );
                const classic = await check({
                    sessionAffinity: affinity,
                    affinityCookieTtlSec: undefined,
                    loadBalancingScheme: "EXTERNAL",
                    localityLbPolicy: undefined,
                });
                assert.equal(classic.length, 1, classic.join("\n"));
                assert.match(classic[0], /on loadBalancingScheme EXTERNAL: NONE, CLIENT_IP, GENERATED_COOKIE\./);
            }
        });
        it("suggests a fix inside allowedAffinities: with only CLIENT_IP allowed it never says GENERATED_COOKIE", async () => {
            const [message] = await check(
                { sessionAffinity: "NONE", affinityCookieTtlSec: undefined },
                { allowedAffinities: ["CLIENT_IP"] },
            );
            assert.match(message, /required: one of CLIENT_IP\. Fix: set sessionAffinity: "CLIENT_IP", because/);
            assert.doesNotMatch(message, /GENERATED_COOKIE/);
            const [outside] = await check({ sessionAffinity: "HTTP_COOKIE" }, { allowedAffinities: ["CLIENT_IP"] });
            assert.match(
                outside,
                /required: one of CLIENT_IP \(the pack's allowedAffinities\)\. Fix: set sessionAffinity: "CLIENT_IP", because/,
            );
            assert.equal(
                await remediate(
                    rule("enforce-session-affinity"),
                    changed(websocketBackend(), { sessionAffinity: "NONE" }),
                    { allowedAffinities: ["CLIENT_IP"] },
                ),
                undefined,
            );
        });
        it("says plainly when no allowed affinity works on the scheme", async () => {
            const [message] = await check(
                { sessionAffinity: "NONE", loadBalancingScheme: "EXTERNAL" },
                { allowedAffinities: ["HTTP_COOKIE"] },
            );
            assert.match(
                message,
                /Fix: no affinity in allowedAffinities \(HTTP_COOKIE\) works on loadBalancingScheme EXTERNAL \(classic Application Load Balancer\): change the pack's allowedAffinities or the scheme/,
            );
        });
        it("remediates NONE to a 24 h generated cookie", async () => {
            const fixed = await remediate(
                rule("enforce-session-affinity"),
                changed(websocketBackend(), { sessionAffinity: "NONE", affinityCookieTtlSec: undefined }),
            );
            assert.equal(fixed?.sessionAffinity, "GENERATED_COOKIE");
            assert.equal(fixed?.affinityCookieTtlSec, 86400);
            assert.equal(fixed?.timeoutSec, 86400);
        });
    });

    describe("disallow-invalid-custom-headers", () => {
        const check = (headers: unknown, property = "customRequestHeaders") =>
            violations("disallow-invalid-custom-headers", changed(websocketBackend(), { [property]: headers }));
        it("rejects Connection: upgrade and Upgrade: websocket, the incident's naive fix", async () => {
            const found = await check(["Connection: upgrade", "Upgrade: websocket"]);
            assert.equal(found.length, 2);
            assert.match(
                found[0],
                /customRequestHeaders\[0\] is "Connection: upgrade"; required: a header name that is not hop-by-hop or reserved\. Fix: remove the Connection header, because header Connection is hop-by-hop: the API rejects it/,
            );
            assert.match(found[1], /customRequestHeaders\[1\] is "Upgrade: websocket"/);
        });
        it("rejects the other hop-by-hop and reserved names and prefixes, in responses too", async () => {
            for (const header of [
                "Keep-Alive: 5",
                "TE: trailers",
                "Trailer: x",
                "Transfer-Encoding: chunked",
                "Proxy-Authorization: x",
                "Proxy-Authenticate: x",
                "X-User-IP: 1",
                "CDN-Loop: x",
                "X-Google-Foo: 1",
                "X-Goog-Bar: 1",
                "X-GFE-Baz: 1",
                "X-Amz-Date: 1",
            ]) {
                assert.equal((await check([header], "customResponseHeaders")).length, 1, header);
            }
        });
        it("rejects duplicates (case-insensitively) and entries that are not Name: value", async () => {
            assert.match(
                (await check(["X-A: 1", "x-a: 2"]))[0],
                /customRequestHeaders\[1\] is "x-a: 2"; required: each header name once/,
            );
            assert.match((await check(["no colon here"]))[0], /required: an entry of the form "Name: value"/);
        });
        it("accepts application headers", async () => {
            assert.deepEqual(await check(["X-Client-Region: {client_region}", "X-Forwarded-Proto: https"]), []);
        });
    });

    describe("advisory backend rules", () => {
        it("disallow-excessive-timeout flags more than 86400", async () => {
            assert.match(
                (await violations("disallow-excessive-timeout", changed(websocketBackend(), { timeoutSec: 86401 })))[0],
                /timeoutSec is 86401; required: at most 86400.*gcpdiag lb\/BP\/2025_002/,
            );
        });
        it("enforce-connection-draining flags 0 but not the API default", async () => {
            assert.match(
                (
                    await violations(
                        "enforce-connection-draining",
                        changed(websocketBackend(), { connectionDrainingTimeoutSec: 0 }),
                    )
                )[0],
                /connectionDrainingTimeoutSec is 0 \(no draining\)/,
            );
            assert.deepEqual(
                await violations(
                    "enforce-connection-draining",
                    changed(websocketBackend(), { connectionDrainingTimeoutSec: undefined }),
                ),
                [],
            );
        });
        it("disallow-affinity-with-utilization flags UTILIZATION and the unset default", async () => {
            const backends = (mode?: string) => [
                { group: "projects/p/regions/r/instanceGroups/g", ...(mode ? { balancingMode: mode } : {}) },
            ];
            assert.match(
                (
                    await violations(
                        "disallow-affinity-with-utilization",
                        changed(websocketBackend(), { backends: backends("UTILIZATION") }),
                    )
                )[0],
                /backends\[0\]\.balancingMode is "UTILIZATION"/,
            );
            assert.match(
                (
                    await violations(
                        "disallow-affinity-with-utilization",
                        changed(websocketBackend(), { backends: backends() }),
                    )
                )[0],
                /is unset \(UTILIZATION\)/,
            );
            await assertNotApplicable(
                "disallow-affinity-with-utilization",
                changed(websocketBackend(), { sessionAffinity: "NONE" }),
                /no load balancer session affinity/,
            );
        });
        it("enforce-affinity-locality-policy flags any affinity but NONE without RING_HASH or MAGLEV, as gcpdiag lb/BP/2022_001 does", async () => {
            for (const affinity of [
                "HTTP_COOKIE",
                "HEADER_FIELD",
                "GENERATED_COOKIE",
                "CLIENT_IP",
                "STRONG_COOKIE_AFFINITY",
            ]) {
                const found = await violations(
                    "enforce-affinity-locality-policy",
                    changed(websocketBackend(), { sessionAffinity: affinity, localityLbPolicy: undefined }),
                );
                assert.match(
                    found[0],
                    new RegExp(
                        `localityLbPolicy is unset with sessionAffinity ${affinity} on a global external Application Load Balancer backend \\(loadBalancingScheme EXTERNAL_MANAGED, protocol HTTP, global\\); required: RING_HASH or MAGLEV\\.`,
                    ),
                );
                assert.equal(
                    (
                        await violations(
                            "enforce-affinity-locality-policy",
                            changed(websocketBackend(), { sessionAffinity: affinity, localityLbPolicy: "ROUND_ROBIN" }),
                        )
                    ).length,
                    1,
                );
                assert.deepEqual(
                    await violations(
                        "enforce-affinity-locality-policy",
                        changed(websocketBackend(), { sessionAffinity: affinity, localityLbPolicy: "MAGLEV" }),
                    ),
                    [],
                );
            }
            assert.match(
                (
                    await violations(
                        "enforce-affinity-locality-policy",
                        changed(websocketBackend(), { localityLbPolicy: undefined }),
                    )
                )[0],
                /gcpdiag lb\/BP\/2022_001 flags it for any affinity/,
            );
            assert.match(
                (
                    await violations(
                        "enforce-affinity-locality-policy",
                        changed(websocketBackend(), { sessionAffinity: "HTTP_COOKIE", localityLbPolicy: undefined }),
                    )
                )[0],
                /HTTP_COOKIE hashes on a cookie or header, which only a hashing locality policy reads/,
            );
            assert.deepEqual(await violations("enforce-affinity-locality-policy", websocketBackend()), []);
            await assertNotApplicable(
                "enforce-affinity-locality-policy",
                changed(websocketBackend(), { sessionAffinity: "NONE" }),
                /no load balancer session affinity/,
            );
            await assertNotApplicable(
                "enforce-affinity-locality-policy",
                changed(websocketBackend(), { loadBalancingScheme: "EXTERNAL", localityLbPolicy: undefined }),
                /classic Application Load Balancer backend \(loadBalancingScheme EXTERNAL, protocol HTTP, global\) takes no hashing localityLbPolicy/,
            );
            await assertNotApplicable(
                "enforce-affinity-locality-policy",
                sslPolicy,
                /applies only to BackendService, RegionBackendService/,
            );
        });
        it("enforce-backend-logging flags missing or disabled logging", async () => {
            assert.match(
                (await violations("enforce-backend-logging", changed(websocketBackend(), { logConfig: undefined })))[0],
                /logConfig\.enable is unset; required: true/,
            );
            assert.equal(
                (
                    await violations(
                        "enforce-backend-logging",
                        changed(websocketBackend(), { logConfig: { enable: false } }),
                    )
                ).length,
                1,
            );
        });
    });
});
