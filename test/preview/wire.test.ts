import { strict as assert } from "assert";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import {
    encodeAnalyzeRequest,
    encodeAnalyzeStackRequest,
    encodeStruct,
    WireError,
    WireResource,
} from "../../preview/wire";
import { runStack } from "../helpers/stack";

// preview/wire.ts builds the pack's requests; the pack decodes them with the same generated code,
// so each request must read back as the resource it was made from.

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
