import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import type { WireResource } from "./wire";

// The requests of wire.ts through google-protobuf's generated code, the public path: what the
// preview sends when the wire fast path is off (WEBSOCKET_LB_NO_FAST_PATH=wire). The properties
// are held as a Struct, not bytes, so neither path encodes anything twice.

const structs = new WeakMap<Uint8Array, Struct>();

/** A stand-in for the encoded properties: the Struct, found again by the requests below. */
function encodeStruct(object: Record<string, unknown>): Buffer {
    const key = Buffer.alloc(0);
    structs.set(key, Struct.fromJavaScript(object as Record<string, never>));
    return key;
}

function structOf(properties: Uint8Array): Struct {
    const found = structs.get(properties);
    return found ?? Struct.deserializeBinary(properties);
}

function fill<M extends proto.AnalyzeRequest | proto.AnalyzerResource>(
    m: M,
    r: WireResource,
    properties: Uint8Array,
): M {
    m.setType(r.type);
    m.setName(r.name);
    m.setUrn(r.urn);
    m.setProperties(structOf(properties));
    const options = new proto.AnalyzerResourceOptions();
    options.setProtect(false);
    options.setParent(r.parent ?? "");
    options.setCustomtimeouts(new proto.AnalyzerResourceOptions.CustomTimeouts());
    m.setOptions(options);
    return m;
}

function encodeAnalyzeRequest(r: WireResource, properties: Uint8Array): Buffer {
    return Buffer.from(fill(new proto.AnalyzeRequest(), r, properties).serializeBinary());
}

function encodeAnalyzeStackRequest(resources: readonly { resource: WireResource; properties: Uint8Array }[]): Buffer {
    const request = new proto.AnalyzeStackRequest();
    for (const { resource: r, properties } of resources) {
        const resource = fill(new proto.AnalyzerResource(), r, properties);
        resource.setParent(r.parent ?? "");
        resource.setDependenciesList([...r.dependencies]);
        const deps = resource.getPropertydependenciesMap();
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            deps.set(key, new proto.AnalyzerPropertyDependencies().setUrnsList([...urns]));
        }
        request.addResources(resource);
    }
    return Buffer.from(request.serializeBinary());
}

/** The same three encoders as wire.ts. */
export const publicWire = { encodeStruct, encodeAnalyzeRequest, encodeAnalyzeStackRequest };
