import { strict as assert } from "assert";
import {
    durationSeconds,
    isSet,
    lastSegment,
    peek,
    record,
    routeTimeoutSeconds,
    UNKNOWN,
} from "../../policies/lib/props";
import { sdkProxy } from "../../policies/lib/sdk-proxy";
import {
    allowsTcp,
    cidrCovers,
    healthChecksOf,
    instanceGroupsOf,
    instanceTagsOf,
    namedPortsOf,
} from "../../policies/lib/groups";
import {
    cloudRunRequestTimeout,
    cloudRunServiceOf,
    looksServerless,
    serverlessNegsOf,
} from "../../policies/lib/backends";
import { T } from "../../policies/lib/types";

describe("policy pack: reading properties that may be unknown", () => {
    const props = sdkProxy.unknownCheckingProxy({ timeoutSec: 86400, selfLink: sdkProxy.unknownStringValue }) as Record<
        string,
        unknown
    >;

    it("peek answers UNKNOWN for an unknown value and the value otherwise, and puts stack traces back", () => {
        const limit = Error.stackTraceLimit;
        assert.equal(
            peek(() => props.selfLink),
            UNKNOWN,
        );
        assert.equal(
            peek(() => props.timeoutSec),
            86400,
        );
        assert.equal(Error.stackTraceLimit, limit);
    });

    it("a bug inside a peek still throws an error whose stack names the file and line", () => {
        const broken = () => (props.missing as { name: string }).name;
        assert.throws(
            () => peek(broken),
            (e: Error) => e instanceof TypeError && /props\.test\.ts:\d+/.test(e.stack ?? ""),
        );
    });
});

describe("policy pack: the property readers at their edges", () => {
    it("isSet: absent, undefined and inherited are unset; a value or an unknown is set", () => {
        const props = sdkProxy.unknownCheckingProxy({
            a: 1,
            u: undefined,
            unknown: sdkProxy.unknownStringValue,
        }) as Record<string, unknown>;
        assert.deepEqual(
            ["a", "u", "unknown", "missing", "toString"].map((k) => isSet(props, k)),
            [true, false, true, false, false],
        );
    });
    it("record: an object only, not null, an array or a string", () => {
        const o = { x: 1 };
        assert.equal(record(o), o);
        for (const v of [null, undefined, [1], "s", 3]) {
            assert.equal(record(v), undefined, String(v));
        }
    });
    it("durationSeconds: a number as is, and only a whole NNN[.N]s string", () => {
        assert.equal(durationSeconds(30), 30);
        assert.equal(durationSeconds("300s"), 300);
        assert.equal(durationSeconds("3600.25s"), 3600.25);
        for (const v of ["300", "s300s", "300ss", "x300s", "1.s", "1.5xs", "1.ab s", undefined]) {
            assert.equal(durationSeconds(v), undefined, String(v));
        }
    });
    it("routeTimeoutSeconds adds the nanoseconds to the seconds; no timeout block is undefined", () => {
        assert.equal(routeTimeoutSeconds({ seconds: "86400", nanos: 500_000_000 }), 86400.5);
        assert.equal(routeTimeoutSeconds({ nanos: 250_000_000 }), 0.25);
        assert.equal(routeTimeoutSeconds(undefined), undefined);
    });
    it("lastSegment: the last path segment, without a query or a trailing slash", () => {
        assert.equal(lastSegment("projects/p/global/backendServices/chat?alt=json"), "chat");
        assert.equal(lastSegment("projects/p/global/backendServices/chat/"), "chat");
        assert.equal(lastSegment("chat"), "chat");
    });
});

describe("policy pack: firewall arithmetic", () => {
    it("cidrCovers: a range holds another only when its prefix is shorter and the bits agree", () => {
        const covers: Array<[string, string, boolean]> = [
            ["0.0.0.0/0", "35.191.0.0/16", true],
            ["35.191.0.0/16", "35.191.12.0/24", true],
            ["35.191.0.0/16", "35.192.0.0/16", false],
            ["35.191.0.0/24", "35.191.0.0/16", false],
            ["130.211.0.0/22", "130.211.3.255", true],
            ["130.211.0.0/22", "130.211.4.0", false],
            [" 10.0.0.0/8 ", "10.1.2.3/32", true],
            ["10.0.0.0/33", "10.0.0.1", false],
            ["10.0.0.0/8", "10.0.0.256", false],
            ["10.0.0.0/8", "10.0.0.1/", false],
            ["10.0.0/8", "10.0.0.1", false],
            ["x10.0.0.0/8", "10.0.0.1", false],
            ["10.0.0.0/8x", "10.0.0.1", false],
            ["10.0.0.0/8", "10.0.0.1000", false],
            ["10.0.0.0", "10.0.0.0", true],
            ["10.0.0.0", "10.0.0.1", false],
            ["255.255.255.255/32", "255.255.255.255", true],
        ];
        for (const [outer, inner, expected] of covers) {
            assert.equal(cidrCovers(outer, inner), expected, `${outer} holds ${inner}`);
        }
    });
    it("allowsTcp: tcp, all or 6; every port without a list; a port inside a range only", () => {
        assert.equal(allowsTcp({ protocol: "TCP" }, 8080), true);
        assert.equal(allowsTcp({ protocol: "all", ports: ["80"] }, 80), true);
        assert.equal(allowsTcp({ protocol: "6", ports: ["8000-8100"] }, 8080), true);
        assert.equal(allowsTcp({ protocol: "tcp", ports: ["8000-8079"] }, 8080), false);
        assert.equal(allowsTcp({ protocol: "tcp", ports: ["8081-8100"] }, 8080), false);
        assert.equal(allowsTcp({ protocol: "tcp", ports: ["8080"] }, undefined), true);
        assert.equal(allowsTcp({ protocol: "udp" }, 8080), false);
        assert.equal(allowsTcp({}, 8080), false);
    });
});

describe("policy pack: which backend services look serverless", () => {
    const NEG = "projects/p/regions/us-central1/networkEndpointGroups/chat-neg";
    const IG = "projects/p/zones/us-central1-a/instanceGroups/chat-ig";
    const unknown = sdkProxy.unknownStringValue;
    const looks = (props: Record<string, unknown>) =>
        looksServerless(sdkProxy.unknownCheckingProxy<Record<string, unknown>>(props));
    it("regional NEGs only: yes; an instance group among them, none at all, or no list: no", () => {
        assert.equal(looks({ backends: [{ group: NEG }, { group: NEG }] }), true);
        assert.equal(looks({ backends: [{ group: NEG }, { group: IG }] }), false);
        assert.equal(looks({ backends: [] }), false);
        assert.equal(looks({}), false);
    });
    it("groups unknown at preview: serverless only without a health check", () => {
        assert.equal(looks({ backends: [{ group: unknown }] }), true);
        assert.equal(looks({ backends: [{ group: unknown }], healthChecks: "hc" }), false);
        assert.equal(looks({ backends: [{ group: unknown }, { group: NEG }] }), true);
        assert.equal(looks({ backends: [{ group: unknown }, { group: IG }] }), false);
        assert.equal(looks({ backends: unknown }), true);
        assert.equal(looks({ backends: unknown, healthChecks: "hc" }), false);
    });
    it("cloudRunRequestTimeout: v2's template.timeout, v1's spec.timeoutSeconds, else the default or the ceiling", () => {
        const run = (template: unknown) =>
            ({ props: { template }, type: "", name: "", urn: "", dependencies: [], propertyDependencies: {} }) as never;
        assert.equal(cloudRunRequestTimeout(run({ timeout: "3600s" })), 3600);
        assert.equal(cloudRunRequestTimeout(run({ spec: { timeoutSeconds: 900 } })), 900);
        assert.equal(cloudRunRequestTimeout(run({})), 300);
        assert.equal(cloudRunRequestTimeout(run(undefined)), 300);
        assert.equal(cloudRunRequestTimeout(undefined), 3600);
    });
});

describe("policy pack: serverless NEGs and their Cloud Run services, linked or only named", () => {
    type Resource = Parameters<typeof serverlessNegsOf>[0];
    const resource = (
        type: string,
        name: string,
        props: Record<string, unknown>,
        deps: Record<string, Resource[]> = {},
    ) =>
        ({
            type,
            name,
            urn: `urn:${name}`,
            props,
            dependencies: Object.values(deps).flat(),
            propertyDependencies: deps,
        }) as Resource;
    const NEG_AT = "projects/p/regions/us-central1/networkEndpointGroups/";
    const run = resource(T.cloudRunV2Service, "chat-run", { name: "chat-run-1a2b" });
    const neg = resource(T.regionNetworkEndpointGroup, "chat-neg", {
        name: "chat-neg-3c4d",
        networkEndpointType: "SERVERLESS",
        cloudRun: { service: "chat-run-1a2b" },
    });
    const implicit = resource(T.regionNetworkEndpointGroup, "fn-neg", {
        name: "fn-neg-5e6f",
        cloudFunction: { function: "f" },
    });
    const vmNeg = resource(T.regionNetworkEndpointGroup, "vm-neg", {
        name: "vm-neg-7a8b",
        networkEndpointType: "GCE_VM_IP_PORT",
    });
    const notNeg = resource(T.backendService, "odd", { name: "odd-9c0d", networkEndpointType: "SERVERLESS" });
    const stack = [run, neg, implicit, vmNeg, notNeg];
    const service = (...groups: string[]) =>
        resource(T.backendService, "svc", { backends: groups.map((group) => ({ group })) });

    it("finds a serverless NEG by its name or logical name, or by its Cloud Run, Functions or App Engine block", () => {
        assert.deepEqual(serverlessNegsOf(service(`${NEG_AT}chat-neg-3c4d`), stack), [neg]);
        assert.deepEqual(serverlessNegsOf(service(`${NEG_AT}chat-neg`), stack), [neg]);
        assert.deepEqual(serverlessNegsOf(service(`${NEG_AT}fn-neg-5e6f`), stack), [implicit]);
    });
    it("does not take a NEG of VMs, or another type that says SERVERLESS, for one", () => {
        assert.deepEqual(serverlessNegsOf(service(`${NEG_AT}vm-neg-7a8b`, `${NEG_AT}odd-9c0d`), stack), []);
    });
    it("finds a NEG's Cloud Run service through its link, its name or logical name, and nothing else", () => {
        const linked = resource(T.regionNetworkEndpointGroup, "l", { cloudRun: {} }, { cloudRun: [notNeg, run] });
        assert.equal(cloudRunServiceOf(linked, []), run);
        assert.equal(cloudRunServiceOf(neg, stack), run);
        const byLogical = resource(T.regionNetworkEndpointGroup, "n", { cloudRun: { service: "chat-run" } });
        assert.equal(cloudRunServiceOf(byLogical, stack), run);
        const elsewhere = resource(T.regionNetworkEndpointGroup, "e", { cloudRun: { service: "odd-9c0d" } });
        assert.equal(cloudRunServiceOf(elsewhere, stack), undefined);
        assert.equal(cloudRunServiceOf(implicit, stack), undefined);
    });
});

describe("policy pack: a backend service's health checks, groups and their instances' tags", () => {
    type Resource = Parameters<typeof healthChecksOf>[0];
    const resource = (
        type: string,
        name: string,
        props: Record<string, unknown>,
        deps: Record<string, Resource[]> = {},
    ) =>
        ({
            type,
            name,
            urn: `urn:${name}`,
            props,
            dependencies: Object.values(deps).flat(),
            propertyDependencies: deps,
        }) as Resource;
    const P = "projects/p/global";
    const hc = resource(T.healthCheck, "hc", { name: "hc-1a" });
    const other = resource(T.healthCheck, "other-hc", { name: "other-hc-2b" });
    const template = resource(T.instanceTemplate, "tpl", { name: "tpl-3c", tags: ["chat-vm"] });
    const mig = resource(T.regionInstanceGroupManager, "mig", {
        name: "mig-4d",
        versions: [{ instanceTemplate: `${P}/instanceTemplates/tpl-3c` }],
    });
    const ig = resource(T.instanceGroup, "ig", { name: "ig-5e" });
    const stack = [hc, other, template, mig, ig];
    it("healthChecksOf: one link or a list, by name or logical name; a link that is no string names nothing", () => {
        const svc = (healthChecks: unknown) => resource(T.backendService, "svc", { healthChecks });
        assert.deepEqual(healthChecksOf(svc(`${P}/healthChecks/hc-1a`), stack), [hc]);
        assert.deepEqual(healthChecksOf(svc([`${P}/healthChecks/hc`, "other-hc-2b"]), stack), [hc, other]);
        assert.deepEqual(healthChecksOf(svc([42]), stack), []);
        assert.deepEqual(healthChecksOf(svc(undefined), stack), []);
    });
    it("instanceGroupsOf: each backend's group by name, only groups", () => {
        const svc = resource(T.backendService, "svc", {
            backends: [
                { group: "zones/z/instanceGroups/ig-5e" },
                { group: "regions/r/instanceGroups/mig-4d" },
                { group: "hc-1a" },
            ],
        });
        assert.deepEqual(instanceGroupsOf(svc, stack), [mig, ig]);
    });
    it("namedPortsOf: name and port pairs", () => {
        const group = resource(T.instanceGroup, "g", { namedPorts: [{ name: "http", port: 8080 }] });
        assert.deepEqual(namedPortsOf(group), [["http", 8080]]);
        assert.deepEqual(namedPortsOf(resource(T.instanceGroup, "g", {})), []);
    });
    it("instanceTagsOf: a managed group's template tags; none for an unmanaged group or a template not in the stack", () => {
        assert.deepEqual(instanceTagsOf(mig, stack), ["chat-vm"]);
        assert.equal(instanceTagsOf(ig, stack), undefined);
        assert.equal(instanceTagsOf(mig, [mig]), undefined);
        const untagged = resource(T.instanceTemplate, "tpl", { name: "tpl-3c" });
        assert.deepEqual(instanceTagsOf(mig, [mig, untagged]), []);
    });
});
