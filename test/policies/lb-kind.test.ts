import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import {
    AFFINITIES_BY_KIND,
    CONSISTENT_HASH_SCHEMES,
    HASH_LOCALITY_POLICIES,
    HASH_LOCALITY_POLICIES_BY_KIND,
} from "../../policies/lib/gcp-facts";
import { LB_KIND_IDS, LbKindId, lbKindOf } from "../../policies/lib/lb-kind";
import { changed, T, websocketBackend } from "./fixtures";
import { policyNamed, remediate, runResourcePolicy, TestResource } from "./harness";

type Props = Record<string, unknown>;
const rule = (name: string) => policyNamed(name) as ResourceValidationPolicy;
const P = "projects/example-chat";

describe("policies: which load balancer a backend service belongs to", () => {
    const cases: Array<[string, string, Props, LbKindId]> = [
        [
            "global, EXTERNAL_MANAGED, HTTP",
            T.backendService,
            { loadBalancingScheme: "EXTERNAL_MANAGED" },
            "global-external-alb",
        ],
        ["global, scheme unset (EXTERNAL), protocol unset (HTTP)", T.backendService, {}, "classic-alb"],
        [
            "global, EXTERNAL, HTTP2",
            T.backendService,
            { loadBalancingScheme: "EXTERNAL", protocol: "HTTP2" },
            "classic-alb",
        ],
        [
            "global, EXTERNAL, SSL",
            T.backendService,
            { loadBalancingScheme: "EXTERNAL", protocol: "SSL" },
            "classic-proxy-nlb",
        ],
        [
            "regional, EXTERNAL_MANAGED, HTTPS",
            T.regionBackendService,
            { loadBalancingScheme: "EXTERNAL_MANAGED", protocol: "HTTPS" },
            "regional-external-alb",
        ],
        [
            "global, INTERNAL_MANAGED, HTTP",
            T.backendService,
            { loadBalancingScheme: "INTERNAL_MANAGED" },
            "cross-region-internal-alb",
        ],
        [
            "regional, INTERNAL_MANAGED, H2C",
            T.regionBackendService,
            { loadBalancingScheme: "INTERNAL_MANAGED", protocol: "H2C" },
            "regional-internal-alb",
        ],
        [
            "global, EXTERNAL_MANAGED, TCP",
            T.backendService,
            { loadBalancingScheme: "EXTERNAL_MANAGED", protocol: "TCP" },
            "global-external-proxy-nlb",
        ],
        [
            "regional, EXTERNAL_MANAGED, TCP",
            T.regionBackendService,
            { loadBalancingScheme: "EXTERNAL_MANAGED", protocol: "TCP" },
            "regional-external-proxy-nlb",
        ],
        [
            "global, INTERNAL_MANAGED, TCP",
            T.backendService,
            { loadBalancingScheme: "INTERNAL_MANAGED", protocol: "TCP" },
            "cross-region-internal-proxy-nlb",
        ],
        [
            "regional, INTERNAL_MANAGED, TCP",
            T.regionBackendService,
            { loadBalancingScheme: "INTERNAL_MANAGED", protocol: "TCP" },
            "regional-internal-proxy-nlb",
        ],
        [
            "regional, EXTERNAL, TCP",
            T.regionBackendService,
            { loadBalancingScheme: "EXTERNAL", protocol: "TCP" },
            "external-passthrough-nlb",
        ],
        [
            "regional, EXTERNAL, UDP",
            T.regionBackendService,
            { loadBalancingScheme: "EXTERNAL", protocol: "UDP" },
            "external-passthrough-nlb",
        ],
        [
            "regional, scheme unset (INTERNAL), TCP",
            T.regionBackendService,
            { protocol: "TCP" },
            "internal-passthrough-nlb",
        ],
        [
            "global, INTERNAL_SELF_MANAGED, GRPC",
            T.backendService,
            { loadBalancingScheme: "INTERNAL_SELF_MANAGED", protocol: "GRPC" },
            "service-mesh",
        ],
        ["global, INTERNAL (no such global kind)", T.backendService, { loadBalancingScheme: "INTERNAL" }, "unknown"],
        [
            "global, EXTERNAL, UDP (no such global kind)",
            T.backendService,
            { loadBalancingScheme: "EXTERNAL", protocol: "UDP" },
            "unknown",
        ],
    ];
    for (const [what, type, props, id] of cases) {
        it(`${what} is ${id}`, () => {
            assert.equal(lbKindOf(type, props).id, id);
        });
    }
    it("covers every kind in the table, and offers each only locality policies that hash", () => {
        assert.deepEqual([...new Set(cases.map((c) => c[3]))].sort(), [...LB_KIND_IDS].sort());
        for (const [, type, props] of cases) {
            for (const policy of lbKindOf(type, props).hashLocalityPolicies) {
                assert.ok(HASH_LOCALITY_POLICIES.includes(policy), policy);
            }
        }
    });
    it("gives every kind the affinities its API accepts: cookies only on Application Load Balancers", () => {
        assert.deepEqual(
            lbKindOf(T.regionBackendService, { loadBalancingScheme: "EXTERNAL", protocol: "TCP" }).affinities,
            ["NONE", "CLIENT_IP", "CLIENT_IP_PROTO", "CLIENT_IP_PORT_PROTO"],
        );
        assert.deepEqual(
            lbKindOf(T.backendService, { loadBalancingScheme: "EXTERNAL_MANAGED", protocol: "TCP" }).affinities,
            ["NONE", "CLIENT_IP"],
        );
        assert.ok(lbKindOf(T.backendService, {}).affinities.includes("GENERATED_COOKIE"));
        assert.ok(!lbKindOf(T.backendService, {}).affinities.includes("HTTP_COOKIE"));
    });
});

/** One backend of each kind the checks must never mistake for a global external Application Load Balancer. */
function kindBackends(): Record<string, { backend: TestResource; id: LbKindId }> {
    const base = websocketBackend();
    const group = `https://www.googleapis.com/compute/v1/${P}/regions/us-central1/instanceGroups/chat-tcp`;
    return {
        "external passthrough NLB": {
            id: "external-passthrough-nlb",
            backend: {
                type: T.regionBackendService,
                name: "chat-passthrough",
                props: {
                    name: "chat-passthrough-1",
                    region: "us-central1",
                    loadBalancingScheme: "EXTERNAL",
                    protocol: "TCP",
                    sessionAffinity: "CLIENT_IP_PORT_PROTO",
                    timeoutSec: 30,
                    connectionDrainingTimeoutSec: 300,
                    healthChecks: `${P}/regions/us-central1/healthChecks/chat-tcp-hc`,
                    backends: [{ group, balancingMode: "CONNECTION" }],
                },
            },
        },
        "TCP proxy NLB": {
            id: "global-external-proxy-nlb",
            backend: {
                type: T.backendService,
                name: "chat-tcp-proxy",
                props: {
                    name: "chat-tcp-proxy-1",
                    loadBalancingScheme: "EXTERNAL_MANAGED",
                    protocol: "TCP",
                    portName: "tcp",
                    sessionAffinity: "CLIENT_IP",
                    localityLbPolicy: "MAGLEV",
                    timeoutSec: 30,
                    connectionDrainingTimeoutSec: 300,
                    healthChecks: `${P}/global/healthChecks/chat-tcp-hc`,
                    backends: [{ group, balancingMode: "UTILIZATION", maxUtilization: 0.8 }],
                },
            },
        },
        "internal Application LB": {
            id: "regional-internal-alb",
            backend: {
                ...changed(base, { loadBalancingScheme: "INTERNAL_MANAGED", region: "us-central1" }),
                type: T.regionBackendService,
            },
        },
        "classic Application LB": {
            id: "classic-alb",
            backend: changed(base, { loadBalancingScheme: "EXTERNAL", localityLbPolicy: undefined }),
        },
    };
}

/** Each rule that reads affinity, timeout, protocol or headers, and the one property change that breaks it. */
const BREAKS: Record<string, Props> = {
    "enforce-backend-timeout": { timeoutSec: 29 },
    "enforce-session-affinity": { sessionAffinity: "NONE" },
    "disallow-affinity-with-utilization": {
        backends: [{ group: `${P}/regions/us-central1/instanceGroups/g`, balancingMode: "UTILIZATION" }],
    },
    "disallow-excessive-timeout": { timeoutSec: 86_401 },
    "disallow-invalid-custom-headers": { customRequestHeaders: ["Upgrade: websocket"] },
    "disallow-duplicate-proxy-headers": { customRequestHeaders: ["X-Forwarded-Proto: https"] },
    "disallow-http2-backend-protocol": { protocol: "HTTP2" },
    "enforce-backend-logging": { logConfig: { enable: false } },
};

/** Every value a message's fix or a remediation would write into sessionAffinity or localityLbPolicy. */
function advisedValues(message: string, property: string): string[] {
    const fix = message.slice(message.indexOf("Fix:"));
    return [...fix.matchAll(new RegExp(`${property}: "([A-Z_]+)"`, "g"))].map((m) => m[1]);
}

function assertAdviceAccepted(message: string, backend: TestResource): void {
    const kind = lbKindOf(backend.type, backend.props);
    for (const value of advisedValues(message, "sessionAffinity")) {
        assert.ok(kind.affinities.includes(value), `${kind.label} refuses sessionAffinity ${value}: ${message}`);
    }
    for (const value of advisedValues(message, "localityLbPolicy")) {
        assert.ok(
            kind.hashLocalityPolicies.includes(value),
            `${kind.label} refuses localityLbPolicy ${value}: ${message}`,
        );
    }
}

describe("policies: every backend rule knows which load balancer it judges", () => {
    for (const [label, { backend, id }] of Object.entries(kindBackends())) {
        const kind = lbKindOf(backend.type, backend.props);
        it(`classifies the ${label} fixture as ${id}`, () => {
            assert.equal(kind.id, id);
        });
        for (const [name, breaking] of Object.entries(BREAKS)) {
            const broken = changed(backend, breaking);
            // HTTP2 makes a TCP proxy backend an Application Load Balancer's: judged as what it has become.
            const judged = lbKindOf(broken.type, broken.props);
            it(`${name} on a ${label} backend${judged.id === kind.id ? "" : ` (now ${judged.label})`}: ${judged.family === "application" ? "one violation, advice the API accepts" : "not applicable, naming the kind"}`, async () => {
                const outcome = await runResourcePolicy(rule(name), broken);
                assert.equal(outcome.cantRun, undefined);
                if (judged.family !== "application") {
                    assert.deepEqual(outcome.violations, []);
                    assert.match(
                        outcome.notApplicable ?? "",
                        new RegExp(
                            `judges Application Load Balancer backends only; this is an? ${judged.label} backend`,
                        ),
                    );
                    assert.equal(await remediate(rule(name), broken), undefined);
                    return;
                }
                assert.deepEqual(
                    (await runResourcePolicy(rule(name), backend)).violations,
                    [],
                    "the unbroken backend passes",
                );
                assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
                assertAdviceAccepted(outcome.violations[0], broken);
                const fixed = await remediate(rule(name), broken);
                if (fixed?.sessionAffinity !== undefined) {
                    const written = fixed.sessionAffinity;
                    assert.ok(
                        typeof written === "string" && judged.affinities.includes(written),
                        JSON.stringify(written),
                    );
                }
            });
        }
    }

    it("enforce-session-affinity on a classic backend with CLIENT_IP_PROTO lists and suggests only classic affinities", async () => {
        const classic = kindBackends()["classic Application LB"].backend;
        const [message] = (
            await runResourcePolicy(
                rule("enforce-session-affinity"),
                changed(classic, { sessionAffinity: "CLIENT_IP_PROTO" }),
            )
        ).violations;
        assert.match(message, /on loadBalancingScheme EXTERNAL: NONE, CLIENT_IP, GENERATED_COOKIE\./);
        assertAdviceAccepted(message, classic);
        const fixed = await remediate(rule("enforce-session-affinity"), changed(classic, { sessionAffinity: "NONE" }));
        assert.equal(fixed?.sessionAffinity, "GENERATED_COOKIE");
    });

    it("enforce-session-affinity never writes a cookie onto a passthrough or TCP proxy backend, whatever allowedAffinities says", async () => {
        for (const label of ["external passthrough NLB", "TCP proxy NLB"]) {
            const backend = changed(kindBackends()[label].backend, { sessionAffinity: "NONE" });
            const outcome = await runResourcePolicy(rule("enforce-session-affinity"), backend);
            assert.deepEqual(outcome.violations, []);
            assert.equal(await remediate(rule("enforce-session-affinity"), backend), undefined);
        }
    });

    describe("enforce-affinity-locality-policy, per kind", () => {
        const check = (backend: TestResource, changes: Props) =>
            runResourcePolicy(rule("enforce-affinity-locality-policy"), changed(backend, changes));
        it("external passthrough: MAGLEV by default and WEIGHTED_MAGLEV pass, RING_HASH (refused there) is flagged with MAGLEV as the fix", async () => {
            const passthrough = kindBackends()["external passthrough NLB"].backend;
            assert.deepEqual((await check(passthrough, {})).violations, []);
            assert.deepEqual((await check(passthrough, { localityLbPolicy: "WEIGHTED_MAGLEV" })).violations, []);
            const [message] = (await check(passthrough, { localityLbPolicy: "RING_HASH" })).violations;
            assert.match(message, /required: MAGLEV or WEIGHTED_MAGLEV\. Fix: set localityLbPolicy: "MAGLEV"/);
            assertAdviceAccepted(message, passthrough);
        });
        it("WEIGHTED_MAGLEV on an Application Load Balancer, where only the passthrough kind takes it, is flagged", async () => {
            const [message] = (await check(websocketBackend(), { localityLbPolicy: "WEIGHTED_MAGLEV" })).violations;
            assert.match(message, /required: RING_HASH or MAGLEV/);
        });
        it("TCP proxy and internal ALB: ROUND_ROBIN is flagged, with a fix the kind accepts", async () => {
            for (const label of ["TCP proxy NLB", "internal Application LB"]) {
                const backend = kindBackends()[label].backend;
                assert.deepEqual((await check(backend, {})).violations, [], label);
                const [message] = (await check(backend, { localityLbPolicy: "ROUND_ROBIN" })).violations;
                assert.match(message, /Fix: set localityLbPolicy: "RING_HASH"/, label);
                assertAdviceAccepted(message, backend);
            }
        });
        it("a scheme, protocol and scope no load balancer has: the HTTP-only rules say so instead of advising", async () => {
            const odd = changed(websocketBackend(), { loadBalancingScheme: "INTERNAL", timeoutSec: 30 });
            const outcome = await runResourcePolicy(rule("enforce-backend-timeout"), odd);
            assert.deepEqual(outcome.violations, []);
            assert.match(
                outcome.notApplicable ?? "",
                /this is an unrecognised backend \(loadBalancingScheme INTERNAL, protocol HTTP, global\)/,
            );
            assert.equal(await remediate(rule("enforce-backend-timeout"), odd), undefined);
        });
        it("classic ALB and internal passthrough: not applicable, naming the kind", async () => {
            const classic = kindBackends()["classic Application LB"].backend;
            assert.match((await check(classic, {})).notApplicable ?? "", /classic Application Load Balancer backend/);
            const internal = changed(kindBackends()["external passthrough NLB"].backend, {
                loadBalancingScheme: "INTERNAL",
            });
            assert.match(
                (await check(internal, {})).notApplicable ?? "",
                /an internal passthrough Network Load Balancer backend/,
            );
        });
    });
});

describe("policies: each load balancer kind's affinities and hashing locality policies", () => {
    const ALB = ["NONE", "CLIENT_IP", "GENERATED_COOKIE", "HEADER_FIELD", "HTTP_COOKIE", "STRONG_COOKIE_AFFINITY"];
    const HASH = ["RING_HASH", "MAGLEV"];
    const IP = ["NONE", "CLIENT_IP"];
    // Written out here, not read from gcp-facts, so a value dropped or changed there fails.
    const EXPECTED: Record<LbKindId, [string[], string[]]> = {
        "global-external-alb": [ALB, HASH],
        "classic-alb": [["NONE", "CLIENT_IP", "GENERATED_COOKIE"], []],
        "regional-external-alb": [ALB, HASH],
        "cross-region-internal-alb": [ALB, HASH],
        "regional-internal-alb": [ALB, HASH],
        "global-external-proxy-nlb": [IP, HASH],
        "classic-proxy-nlb": [IP, []],
        "regional-external-proxy-nlb": [IP, []],
        "cross-region-internal-proxy-nlb": [IP, HASH],
        "regional-internal-proxy-nlb": [IP, []],
        "external-passthrough-nlb": [
            ["NONE", "CLIENT_IP", "CLIENT_IP_PROTO", "CLIENT_IP_PORT_PROTO"],
            ["MAGLEV", "WEIGHTED_MAGLEV"],
        ],
        "internal-passthrough-nlb": [
            ["NONE", "CLIENT_IP", "CLIENT_IP_PROTO", "CLIENT_IP_PORT_PROTO", "CLIENT_IP_NO_DESTINATION"],
            [],
        ],
        "service-mesh": [["NONE", "CLIENT_IP", "GENERATED_COOKIE", "HEADER_FIELD", "HTTP_COOKIE"], HASH],
        unknown: [[], []],
    };
    it("are the ones Google's API accepts for that kind", () => {
        assert.deepEqual(Object.keys(EXPECTED).sort(), [...LB_KIND_IDS].sort());
        for (const id of LB_KIND_IDS) {
            assert.deepEqual(
                [AFFINITIES_BY_KIND[id] ?? [], HASH_LOCALITY_POLICIES_BY_KIND[id] ?? []],
                EXPECTED[id],
                id,
            );
        }
        assert.deepEqual(CONSISTENT_HASH_SCHEMES, {
            global: ["INTERNAL_SELF_MANAGED"],
            regional: ["INTERNAL_MANAGED"],
        });
    });
});
