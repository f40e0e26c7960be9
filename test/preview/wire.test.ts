import { strict as assert } from "assert";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import {
    encodeAnalyzeRequest,
    encodeAnalyzeStackRequest,
    encodeStruct,
    WireError,
    WireResource,
} from "../../preview/wire";
import * as bytes from "../../preview/wire-bytes";
import * as generated from "../../preview/wire-public";
import { shapeProblem } from "../../preview/wire";
import { runStack } from "../helpers/stack";

// preview/wire.ts builds the pack's requests; the pack decodes them with the same generated code,
// so each request must read back as the resource it was made from. Its fast path writes them by
// hand (wire-bytes.ts), and google-protobuf, which the pack decodes them with, is the reference:
// for the same message both must give the same bytes.

type Resource = WireResource & { inputs: Record<string, unknown> };

/** What a decoded AnalyzeRequest or AnalyzerResource says, in WireResource's terms. */
function readBack(
    m: proto.AnalyzeRequest | proto.AnalyzerResource,
): Omit<Resource, "dependencies" | "propertyDependencies"> {
    const parent = m.getOptions()?.getParent();
    return {
        type: m.getType(),
        name: m.getName(),
        urn: m.getUrn(),
        ...(parent ? { parent } : {}),
        inputs: m.getProperties()?.toJavaScript() ?? {},
    };
}

function sameResource(m: proto.AnalyzeRequest | proto.AnalyzerResource, r: Resource, what: string): void {
    const { type, name, urn, parent, inputs } = r;
    assert.deepEqual(readBack(m), { type, name, urn, ...(parent ? { parent } : {}), inputs }, what);
}

/** Every resource's Analyze request, then their AnalyzeStack request, read back. */
function readsBack(resources: readonly Resource[], what: string): void {
    const encoded = resources.map((r) => {
        const properties = encodeStruct(r.inputs);
        sameResource(
            proto.AnalyzeRequest.deserializeBinary(encodeAnalyzeRequest(r, properties)),
            r,
            `${what} ${r.urn}`,
        );
        return { resource: r, properties };
    });
    const stack = proto.AnalyzeStackRequest.deserializeBinary(encodeAnalyzeStackRequest(encoded)).getResourcesList();
    assert.equal(stack.length, resources.length);
    stack.forEach((m, i) => {
        const r = resources[i];
        sameResource(m, r, `${what} AnalyzeStack ${r.urn}`);
        assert.deepEqual(m.getDependenciesList(), r.dependencies);
        const deps: Record<string, string[]> = {};
        m.getPropertydependenciesMap().forEach((value, key) => (deps[key] = value.getUrnsList()));
        assert.deepEqual(deps, r.propertyDependencies);
    });
}

describe("preview/wire.ts: the pack's requests read back as the resources they were made from", () => {
    it("a value JSON cannot hold is refused, naming the property", () => {
        assert.throws(
            () => encodeStruct({ outer: { inner: [1, undefined] } }),
            (e: unknown) =>
                e instanceof WireError && /property outer\.inner\[1\]: undefined is not a JSON value/.test(e.message),
        );
        assert.throws(() => encodeStruct({ f: () => 1 }), /property f: function/);
    });

    it("Analyze and AnalyzeStack requests for every resource of the staging stack", async function () {
        this.timeout(120_000);
        const run = await runStack("staging");
        assert.ok(run.resources.length > 40, `staging: ${run.resources.length} resources`);
        readsBack(run.resources, "staging");
    });

    it("a resource with a parent, dependencies and property dependencies, and one with none", () => {
        readsBack(
            [
                {
                    type: "gcp:compute/backendService:BackendService",
                    name: "b",
                    urn: "urn:pulumi:s::p::t::b",
                    parent: "urn:pulumi:s::p::c::parent",
                    dependencies: ["urn:a", "", "urn:b"],
                    propertyDependencies: { z: ["urn:z"], a: [], "": ["urn:e"] },
                    inputs: { timeoutSec: 86400, nested: { list: [1, "two", null, true] } },
                },
                { type: "", name: "", urn: "", dependencies: [], propertyDependencies: {}, inputs: {} },
            ],
            "hand-built",
        );
    });
});

const same = (ours: Buffer, theirs: Uint8Array, what: string) =>
    assert.ok(
        ours.equals(Buffer.from(theirs)),
        `${what}: ${ours.length} bytes by hand, ${theirs.length} from google-protobuf`,
    );

/** Every resource's Analyze request, then their AnalyzeStack request, by hand against google-protobuf. */
function sameBytes(resources: readonly Resource[], what: string): void {
    const ours = resources.map((r) => ({ resource: r, properties: bytes.encodeStruct(r.inputs) }));
    const theirs = resources.map((r) => ({ resource: r, properties: generated.encodeStruct(r.inputs) }));
    resources.forEach((r, i) =>
        same(
            bytes.encodeAnalyzeRequest(r, ours[i].properties),
            generated.encodeAnalyzeRequest(r, theirs[i].properties),
            `${what} ${r.urn || "(empty)"}`,
        ),
    );
    same(bytes.encodeAnalyzeStackRequest(ours), generated.encodeAnalyzeStackRequest(theirs), `${what} AnalyzeStack`);
}

describe("preview/wire-bytes.ts: the pack's requests by hand, byte for byte as google-protobuf writes them", () => {
    it("Struct: every JSON kind, key order, empty and long values, multi-byte lengths", () => {
        const cases: Record<string, unknown>[] = [
            {},
            { "": "", zero: 0, negative: -1.5, big: 2 ** 53, tiny: 5e-324, yes: true, no: false, nothing: null },
            { z: 1, a: 2, M: 3, ä: 4, "10": 5, "9": 6 },
            { list: [], object: {}, nested: { list: [1, "two", null, true, { deeper: [[], {}] }] } },
            { long: "x".repeat(200), longer: "é".repeat(20_000), emoji: "chat 💬" },
            { many: Array.from({ length: 3_000 }, (_, i) => ({ i, name: `backend-${i}` })) },
        ];
        for (const value of cases) {
            same(
                bytes.encodeStruct(value),
                generated.encodeStruct(value).serializeBinary(),
                JSON.stringify(value).slice(0, 60),
            );
        }
    });

    it("Analyze and AnalyzeStack requests for every resource of the staging and production stacks", async function () {
        this.timeout(120_000);
        for (const stack of ["staging", "production"]) {
            const run = await runStack(stack);
            assert.ok(run.resources.length > 40, `${stack}: ${run.resources.length} resources`);
            sameBytes(run.resources, stack);
        }
    });

    it("a resource with a parent, dependencies and property dependencies, and one with none", () => {
        sameBytes(
            [
                {
                    type: "gcp:compute/backendService:BackendService",
                    name: "b",
                    urn: "urn:pulumi:s::p::t::b",
                    parent: "urn:pulumi:s::p::c::parent",
                    dependencies: ["urn:a", "", "urn:b"],
                    propertyDependencies: { z: ["urn:z"], a: [], "": ["urn:e"] },
                    inputs: { timeoutSec: 86400 },
                },
                { type: "", name: "", urn: "", dependencies: [], propertyDependencies: {}, inputs: {} },
            ],
            "hand-built",
        );
    });

    it("the start-up check passes on the pinned SDK and names the message whose bytes differ", () => {
        assert.equal(shapeProblem(bytes, generated), undefined);
        // As a later generated code that wrote one more field of AnalyzeStackRequest would.
        const changed = {
            ...generated,
            encodeAnalyzeStackRequest: (resources: Parameters<typeof generated.encodeAnalyzeStackRequest>[0]) =>
                Buffer.concat([generated.encodeAnalyzeStackRequest(resources), Buffer.from([0x12, 0x00])]),
        };
        assert.match(
            shapeProblem(bytes, changed) ?? "",
            /^@pulumi\/pulumi's generated code no longer writes AnalyzeStackRequest as preview\/wire-bytes\.ts does/,
        );
    });
});
