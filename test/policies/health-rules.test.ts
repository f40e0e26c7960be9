import { strict as assert } from "assert";
import { StackValidationPolicy } from "@pulumi/policy";
import { cidrCovers } from "../../policies/lib/groups";
import { changed, compliantStack, swap, T } from "./fixtures";
import { policyNamed, runStackPolicy, TestResource, urnOf } from "./harness";

const rule = (name: string) => policyNamed(name) as StackValidationPolicy;
const P = "projects/example-chat";

/** The compliant load balancer with its WebSocket backend on a managed instance group, linked as the program links it. */
function instanceGroupStack() {
    const s = compliantStack();
    const hc: TestResource = {
        type: T.healthCheck,
        name: "chat-api-hc",
        props: {
            name: "chat-api-hc-1",
            httpHealthCheck: { port: 8080, requestPath: "/healthz" },
            logConfig: { enable: true },
        },
    };
    const template: TestResource = {
        type: T.instanceTemplate,
        name: "chat-api-template",
        props: { name: "chat-api-template-1", tags: ["chat-api-serving"], machineType: "e2-standard-2" },
    };
    const mig: TestResource = {
        type: T.regionInstanceGroupManager,
        name: "chat-api-mig",
        props: {
            name: "chat-api-mig-1",
            region: "us-central1",
            namedPorts: [{ name: "http", port: 8080 }],
            versions: [{ name: "primary", instanceTemplate: `${P}/global/instanceTemplates/chat-api-template-1` }],
        },
        links: { versions: [template] },
    };
    const firewall: TestResource = {
        type: T.firewall,
        name: "chat-api-allow-google-proxies",
        props: {
            network: "default",
            direction: "INGRESS",
            sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
            targetTags: ["chat-api-serving"],
            allows: [{ protocol: "tcp", ports: ["8080"] }],
        },
    };
    const ws = changed(s.ws, {}, { backends: [mig], healthChecks: [hc] });
    const all = [...swap(s.all, s.ws, ws), hc, template, mig, firewall];
    return { ...s, ws, hc, template, mig, firewall, all };
}

async function run(name: string, resources: TestResource[]) {
    const outcome = await runStackPolicy(rule(name), resources);
    assert.equal(outcome.cantRun, undefined, outcome.cantRun);
    return outcome;
}

describe("policies: health checks, named ports and the health-check firewall", () => {
    for (const name of [
        "enforce-health-check-logging",
        "enforce-unique-named-ports",
        "enforce-health-check-firewall",
    ]) {
        it(`${name}: passes the compliant instance-group stack, and is not applicable to a stack without one`, async () => {
            const outcome = await run(name, instanceGroupStack().all);
            assert.deepEqual(outcome.violations, []);
            assert.equal(outcome.notApplicable, undefined);
            const serverlessOnly = await run(name, compliantStack().all);
            assert.deepEqual(serverlessOnly.violations, []);
            assert.ok(serverlessOnly.notApplicable, `${name} should say it does not apply`);
        });
    }

    describe("enforce-health-check-logging", () => {
        it("flags the WebSocket backend's health check with logging off or unset, against the health check", async () => {
            const s = instanceGroupStack();
            for (const logConfig of [{ enable: false }, undefined]) {
                const off = changed(s.hc, { logConfig });
                const outcome = await run("enforce-health-check-logging", swap(s.all, s.hc, off));
                assert.equal(outcome.violations.length, 1);
                assert.match(
                    outcome.violations[0],
                    /^HealthCheck "chat-api-hc": logConfig\.enable is (false|unset) on the health check of BackendService "chat-api-backend"; required: true\. .*gcpdiag lb\/BP\/2023_002/,
                );
                assert.deepEqual(outcome.urns, [urnOf(off)]);
            }
        });
        it("finds the health check by its link when no dependency was recorded", async () => {
            const s = instanceGroupStack();
            const ws = changed(s.ws, { healthChecks: `${P}/global/healthChecks/chat-api-hc-1` }, { backends: [s.mig] });
            const off = changed(s.hc, { logConfig: undefined });
            const outcome = await run("enforce-health-check-logging", swap(swap(s.all, s.ws, ws), s.hc, off));
            assert.equal(outcome.violations.length, 1);
        });
    });

    describe("enforce-unique-named-ports", () => {
        it("flags a group whose port name stands for two ports", async () => {
            const s = instanceGroupStack();
            const twice = changed(s.mig, {
                namedPorts: [
                    { name: "http", port: 8080 },
                    { name: "http", port: 8081 },
                ],
            });
            const outcome = await run("enforce-unique-named-ports", swap(s.all, s.mig, twice));
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /^RegionInstanceGroupManager "chat-api-mig": namedPorts is "http" named more than once \(http:8080, http:8081\); required: each named port name once\..*gce\/WARN\/2022_002/,
            );
            assert.deepEqual(outcome.urns, [urnOf(twice)]);
        });
        it("flags a group that lacks the backend's portName", async () => {
            const s = instanceGroupStack();
            const other = changed(s.mig, { namedPorts: [{ name: "web", port: 8080 }] });
            const [message] = (await run("enforce-unique-named-ports", swap(s.all, s.mig, other))).violations;
            assert.match(message, /named ports web, none called "http"; required: a named port called "http"/);
        });
        it("does not judge a group that only a backend without WebSocket paths sends to", async () => {
            const s = instanceGroupStack();
            const plain: TestResource = {
                type: T.backendService,
                name: "chat-plain",
                props: { loadBalancingScheme: "EXTERNAL_MANAGED", protocol: "HTTP", portName: "http" },
                links: { backends: [s.mig] },
            };
            const twice = changed(s.mig, {
                namedPorts: [
                    { name: "http", port: 8080 },
                    { name: "http", port: 8081 },
                ],
            });
            const unlinked = changed(s.ws, {}, {});
            const resources = [...swap(swap(s.all, s.ws, unlinked), s.mig, twice), plain];
            const outcome = await run("enforce-unique-named-ports", resources);
            assert.deepEqual(outcome.violations, []);
            assert.match(outcome.notApplicable ?? "", /no WebSocket backend of the stack sends to an instance group/);
        });
    });

    describe("enforce-health-check-firewall", () => {
        const broken = async (changes: Record<string, unknown>) => {
            const s = instanceGroupStack();
            return (await run("enforce-health-check-firewall", swap(s.all, s.firewall, changed(s.firewall, changes))))
                .violations;
        };
        it("flags a stack that lacks the firewall rule, against the backend service", async () => {
            const s = instanceGroupStack();
            const outcome = await run(
                "enforce-health-check-firewall",
                s.all.filter((r) => r !== s.firewall),
            );
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /^BackendService "chat-api-backend": backends \(RegionInstanceGroupManager "chat-api-mig"\) is no firewall rule of the stack that lets 35\.191\.0\.0\/16, 130\.211\.0\.0\/22 reach tcp:8080 on its instances \(tags chat-api-serving\)/,
            );
            assert.deepEqual(outcome.urns, [urnOf(s.ws)]);
        });
        it("flags each broken property of the rule: a range missing, the wrong port, another tag, disabled, egress, udp", async () => {
            for (const changes of [
                { sourceRanges: ["35.191.0.0/16"] },
                { allows: [{ protocol: "tcp", ports: ["80"] }] },
                { targetTags: ["other"] },
                { disabled: true },
                { direction: "EGRESS" },
                { allows: [{ protocol: "udp", ports: ["8080"] }] },
            ]) {
                assert.equal((await broken(changes)).length, 1, JSON.stringify(changes));
            }
        });
        it("accepts wider rules: 0.0.0.0/0, a port range, all protocols, no target tags", async () => {
            for (const changes of [
                { sourceRanges: ["0.0.0.0/0"] },
                { allows: [{ protocol: "tcp", ports: ["8000-9000"] }] },
                { allows: [{ protocol: "all" }] },
                { targetTags: undefined },
            ]) {
                assert.deepEqual(await broken(changes), [], JSON.stringify(changes));
            }
        });
        it("asks the external passthrough NLB's own ranges of a passthrough backend", async () => {
            const s = instanceGroupStack();
            const passthrough: TestResource = {
                type: T.regionBackendService,
                name: "chat-tcp",
                props: { loadBalancingScheme: "EXTERNAL", protocol: "TCP", healthChecks: "hc" },
                links: { backends: [s.mig] },
            };
            const [message] = (await run("enforce-health-check-firewall", [...s.all, passthrough])).violations;
            assert.match(
                message,
                /lets 35\.191\.0\.0\/16, 209\.85\.152\.0\/22, 209\.85\.204\.0\/22 reach tcp on its instances/,
            );
        });
        it("compares IPv4 ranges by containment", () => {
            assert.ok(cidrCovers("35.191.0.0/16", "35.191.0.0/16"));
            assert.ok(cidrCovers("35.0.0.0/8", "35.191.0.0/16"));
            assert.ok(!cidrCovers("35.191.0.0/24", "35.191.0.0/16"));
            assert.ok(!cidrCovers("130.211.4.0/22", "130.211.0.0/22"));
            assert.ok(!cidrCovers("not-a-range", "130.211.0.0/22"));
            assert.ok(!cidrCovers("300.1.1.1/8", "130.211.0.0/22"));
        });
    });
});
