import type { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { fastPathOn, fastPathUnavailable } from "./fast-paths";
import * as bytes from "./wire-bytes";
import * as generated from "./wire-public";

// How the preview encodes the requests it sends a policy pack: the hand-written encoder
// (wire-bytes.ts, the wire fast path) or google-protobuf's generated code (wire-public.ts, the
// public path). The fast path writes the field numbers the pinned @pulumi/pulumi's generated code
// writes; that is checked once, on first use, by encoding one request of every kind both ways.
// When the bytes differ, the preview's notices say so once and the generated code builds every
// request: the pack reads the same requests either way.

export { WireError, type WireResource } from "./wire-public";

/** A resource's properties, encoded once for its Analyze request and the AnalyzeStack request. */
export type EncodedProperties = Buffer | Struct;

interface Encoder<P> {
    encodeStruct(object: Record<string, unknown>): P;
    encodeAnalyzeRequest(r: generated.WireResource, properties: P): Buffer;
    encodeAnalyzeStackRequest(resources: readonly { resource: generated.WireResource; properties: P }[]): Buffer;
}

/** One resource with every field and every JSON kind the encoders write. */
const SAMPLE: generated.WireResource & { inputs: Record<string, unknown> } = {
    type: "gcp:compute/backendService:BackendService",
    name: "sample",
    urn: "urn:pulumi:s::p::gcp:compute/backendService:BackendService::sample",
    parent: "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s",
    dependencies: ["urn:a", "urn:b"],
    propertyDependencies: { timeoutSec: ["urn:a"], backends: ["urn:a", "urn:b"] },
    inputs: {
        timeoutSec: 86400,
        ratio: -0.5,
        name: "chat é 💬",
        enabled: true,
        off: false,
        nothing: null,
        backends: [{ group: "ig-a", weights: [1, 2] }, []],
        long: "x".repeat(300),
    },
};

/** Where the hand-written bytes differ from the generated code's for the same request, if anywhere. */
export function shapeProblem(fast: Encoder<Buffer>, reference: Encoder<Struct>): string | undefined {
    const sample = (e: Encoder<Buffer> | Encoder<Struct>) => {
        const encoder = e as Encoder<EncodedProperties>;
        const properties = encoder.encodeStruct(SAMPLE.inputs);
        return {
            AnalyzeRequest: encoder.encodeAnalyzeRequest(SAMPLE, properties),
            AnalyzeStackRequest: encoder.encodeAnalyzeStackRequest([{ resource: SAMPLE, properties }]),
        };
    };
    const ours = sample(fast);
    const theirs = sample(reference);
    for (const message of ["AnalyzeRequest", "AnalyzeStackRequest"] as const) {
        if (!ours[message].equals(theirs[message])) {
            return `@pulumi/pulumi's generated code no longer writes ${message} as preview/wire-bytes.ts does (${theirs[message].length} bytes against ${ours[message].length})`;
        }
    }
    return undefined;
}

let chosen: Encoder<EncodedProperties> | undefined;

function encoder(): Encoder<EncodedProperties> {
    if (chosen === undefined) {
        const problem = fastPathOn("wire") ? shapeProblem(bytes, generated) : "switched off";
        if (problem !== undefined && problem !== "switched off") {
            fastPathUnavailable("wire", `${problem}; google-protobuf's generated code builds the requests`);
        }
        chosen = (problem === undefined ? bytes : generated) as Encoder<EncodedProperties>;
    }
    return chosen;
}

/** A resource's properties encoded for the requests below; a value JSON cannot hold is a WireError naming it. */
export function encodeStruct(object: Record<string, unknown>): EncodedProperties {
    return encoder().encodeStruct(object);
}

/** pulumirpc.AnalyzeRequest for one resource, its properties already encoded (encodeStruct). */
export function encodeAnalyzeRequest(r: generated.WireResource, properties: EncodedProperties): Buffer {
    return encoder().encodeAnalyzeRequest(r, properties);
}

/** pulumirpc.AnalyzeStackRequest over every resource, each with its encoded properties. */
export function encodeAnalyzeStackRequest(
    resources: readonly { resource: generated.WireResource; properties: EncodedProperties }[],
): Buffer {
    return encoder().encodeAnalyzeStackRequest(resources);
}
