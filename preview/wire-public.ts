import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";

// The requests the preview sends a policy pack through google-protobuf's generated code (the
// pack decodes them with the same): the public path, which preview/wire.ts takes when the wire
// fast path (wire-bytes.ts) is switched off or finds the generated code changed. Each resource's
// properties become a Struct once, shared by its Analyze request and the AnalyzeStack request.

/** A value Struct cannot hold: what the property is and what it holds. */
export class WireError extends Error {
    constructor(path: string, value: unknown) {
        super(
            `property ${path || "(root)"}: ${typeof value} is not a JSON value, so it cannot be sent to the policy pack`,
        );
        this.name = "WireError";
    }
}

/** Fails naming the first property a Struct cannot hold (google-protobuf's own error names none). */
function checkJson(value: unknown, path: string): void {
    switch (typeof value) {
        case "string":
        case "number":
        case "boolean":
            return;
        case "object":
            if (Array.isArray(value)) {
                value.forEach((item, i) => checkJson(item, `${path}[${i}]`));
            } else if (value !== null) {
                for (const [key, item] of Object.entries(value)) {
                    checkJson(item, path ? `${path}.${key}` : key);
                }
            }
            return;
        default:
            throw new WireError(path, value);
    }
}

/** google.protobuf.Struct of a JSON object. */
export function encodeStruct(object: Record<string, unknown>): Struct {
    checkJson(object, "");
    return Struct.fromJavaScript(object as Record<string, never>);
}

/** What an Analyze request and an AnalyzeStack resource say about one resource. */
export interface WireResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent?: string;
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

/** Fields that AnalyzeRequest and AnalyzerResource share: type, properties, urn, name, options. */
function fill<M extends proto.AnalyzeRequest | proto.AnalyzerResource>(m: M, r: WireResource, properties: Struct): M {
    m.setType(r.type);
    m.setName(r.name);
    m.setUrn(r.urn);
    m.setProperties(properties);
    const options = new proto.AnalyzerResourceOptions();
    options.setProtect(false);
    options.setParent(r.parent ?? "");
    options.setCustomtimeouts(new proto.AnalyzerResourceOptions.CustomTimeouts());
    m.setOptions(options);
    return m;
}

/** pulumirpc.AnalyzeRequest for one resource, its properties already a Struct (encodeStruct). */
export function encodeAnalyzeRequest(r: WireResource, properties: Struct): Buffer {
    return Buffer.from(fill(new proto.AnalyzeRequest(), r, properties).serializeBinary());
}

/** pulumirpc.AnalyzeStackRequest over every resource, each with its properties. */
export function encodeAnalyzeStackRequest(
    resources: readonly { resource: WireResource; properties: Struct }[],
): Buffer {
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
