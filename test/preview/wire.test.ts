import { strict as assert } from "assert";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import {
    encodeAnalyzeRequest,
    encodeAnalyzeStackRequest,
    encodeStruct,
    WireError,
    WireResource,
} from "../../preview/wire";
import { runStack } from "../helpers/stack";

// preview/wire.ts writes the pack's requests itself; google-protobuf, which the pack decodes them
// with, is the reference: for the same message both must give the same bytes.

function reference(r: WireResource & { inputs: Record<string, unknown> }): {
    request: proto.AnalyzeRequest;
    resource: proto.AnalyzerResource;
} {
    const options = () => {
        const opts = new proto.AnalyzerResourceOptions();
        opts.setProtect(false);
        opts.setParent(r.parent ?? "");
        opts.setCustomtimeouts(new proto.AnalyzerResourceOptions.CustomTimeouts());
        return opts;
    };
    const fill = <M extends proto.AnalyzeRequest | proto.AnalyzerResource>(m: M): M => {
        m.setType(r.type);
        m.setName(r.name);
        m.setUrn(r.urn);
        m.setProperties(Struct.fromJavaScript(r.inputs as Record<string, never>));
        m.setOptions(options());
        return m;
    };
    const resource = fill(new proto.AnalyzerResource());
    resource.setParent(r.parent ?? "");
    resource.setDependenciesList([...r.dependencies]);
    const deps = resource.getPropertydependenciesMap();
    for (const [key, urns] of Object.entries(r.propertyDependencies)) {
        deps.set(key, new proto.AnalyzerPropertyDependencies().setUrnsList([...urns]));
    }
    return { request: fill(new proto.AnalyzeRequest()), resource };
}

const same = (ours: Buffer, theirs: Uint8Array, what: string) =>
    assert.ok(
        ours.equals(Buffer.from(theirs)),
        `${what}: ${ours.length} bytes here, ${theirs.length} from google-protobuf`,
    );

/** Every resource's Analyze request, then their AnalyzeStack request, against google-protobuf's. */
function sameRequests(resources: readonly (WireResource & { inputs: Record<string, unknown> })[], what: string): void {
    const stackRequest = new proto.AnalyzeStackRequest();
    const encoded = resources.map((r) => {
        const { request, resource } = reference(r);
        const properties = encodeStruct(r.inputs);
        same(encodeAnalyzeRequest(r, properties), request.serializeBinary(), `${what} ${r.urn || "(empty)"}`);
        stackRequest.addResources(resource);
        return { resource: r, properties };
    });
    same(encodeAnalyzeStackRequest(encoded), stackRequest.serializeBinary(), `${what} AnalyzeStack`);
}

describe("preview/wire.ts: the pack's requests, byte for byte as google-protobuf writes them", () => {
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
                encodeStruct(value),
                Struct.fromJavaScript(value as Record<string, never>).serializeBinary(),
                JSON.stringify(value).slice(0, 60),
            );
        }
    });

    it("a value JSON cannot hold is refused, naming the property", () => {
        assert.throws(
            () => encodeStruct({ outer: { inner: [1, undefined] } }),
            (e: unknown) =>
                e instanceof WireError && /property outer\.inner\[1\]: undefined is not a JSON value/.test(e.message),
        );
        assert.throws(() => encodeStruct({ f: () => 1 }), /property f: function/);
    });

    it("Analyze and AnalyzeStack requests for every resource of the staging and production stacks", async function () {
        this.timeout(120_000);
        for (const stack of ["staging", "production"]) {
            const run = await runStack(stack);
            assert.ok(run.resources.length > 40, `${stack}: ${run.resources.length} resources`);
            sameRequests(run.resources, stack);
        }
    });

    it("a resource with a parent, dependencies and property dependencies, and one with none", () => {
        const resources: (WireResource & { inputs: Record<string, unknown> })[] = [
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
        ];
        sameRequests(resources, "hand-built");
    });
});
