import { WireError, type WireResource } from "./wire-public";

// The wire fast path (chosen by preview/wire.ts): the requests the preview sends a policy pack,
// written straight from the recorded JavaScript values into one buffer. google-protobuf builds an
// object for every Value of every Struct and then serializes those; at 1,000 backends that object
// tree was a fifth of this process's peak memory (docs/benchmarks.md). A resource's properties
// are encoded once (`encodeStruct`) and the bytes reused by its Analyze request and by the
// AnalyzeStack request.
//
// Field numbers: google/protobuf/struct.proto (Struct, Value, ListValue) and Pulumi's
// analyzer.proto, as the generated code in @pulumi/pulumi/proto/analyzer_pb.js writes them
// (serializeBinaryToWriter of AnalyzeRequest, AnalyzerResource, AnalyzerResourceOptions,
// AnalyzeStackRequest, AnalyzerPropertyDependencies). preview/wire.ts holds these encoders to
// google-protobuf's bytes at start-up, and test/preview/wire.test.ts on whole stacks.

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;

/** A growing buffer that protocol-buffer fields are appended to. */
class Writer {
    private buf = Buffer.allocUnsafe(4096);
    private pos = 0;

    private room(n: number): void {
        if (this.pos + n > this.buf.length) {
            const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
            this.buf.copy(bigger, 0, 0, this.pos);
            this.buf = bigger;
        }
    }

    varint(value: number): void {
        this.room(10);
        while (value > 0x7f) {
            this.buf[this.pos++] = (value & 0x7f) | 0x80;
            value = Math.floor(value / 128);
        }
        this.buf[this.pos++] = value;
    }

    tag(field: number, wire: number): void {
        this.varint(field * 8 + wire);
    }

    string(field: number, value: string): void {
        this.tag(field, BYTES);
        const length = Buffer.byteLength(value);
        this.varint(length);
        this.room(length);
        this.pos += this.buf.write(value, this.pos, "utf8");
    }

    bytes(field: number, value: Uint8Array): void {
        this.tag(field, BYTES);
        this.varint(value.length);
        this.room(value.length);
        this.buf.set(value, this.pos);
        this.pos += value.length;
    }

    double(field: number, value: number): void {
        this.tag(field, FIXED64);
        this.room(8);
        this.pos = this.buf.writeDoubleLE(value, this.pos);
    }

    /** Opens a length-delimited field; `close` with what this returns once its content is written. */
    open(field: number): number {
        this.tag(field, BYTES);
        // One byte for the length, the common case; close() makes more room when it needs it.
        this.room(1);
        return this.pos++;
    }

    close(at: number): void {
        const length = this.pos - at - 1;
        let size = 1;
        for (let n = length; n > 0x7f; n = Math.floor(n / 128)) {
            size++;
        }
        if (size > 1) {
            this.room(size - 1);
            this.buf.copyWithin(at + size, at + 1, this.pos);
            this.pos += size - 1;
        }
        const end = this.pos;
        this.pos = at;
        this.varint(length);
        this.pos = end;
    }

    /** The bytes written so far, copied out. */
    finish(): Buffer {
        return Buffer.from(this.buf.subarray(0, this.pos));
    }
}

function writeStructFields(w: Writer, object: Record<string, unknown>, path: string): void {
    // Map entries in key order, as google-protobuf writes them.
    for (const key of Object.keys(object).sort()) {
        const entry = w.open(1);
        w.string(1, key);
        const value = w.open(2);
        writeValue(w, object[key], path ? `${path}.${key}` : key);
        w.close(value);
        w.close(entry);
    }
}

function writeValue(w: Writer, value: unknown, path: string): void {
    switch (typeof value) {
        case "string":
            w.string(3, value);
            return;
        case "number":
            w.double(2, value);
            return;
        case "boolean":
            w.tag(4, VARINT);
            w.varint(value ? 1 : 0);
            return;
        case "object": {
            if (value === null) {
                w.tag(1, VARINT);
                w.varint(0);
            } else if (Array.isArray(value)) {
                const list = w.open(6);
                value.forEach((item, i) => {
                    const entry = w.open(1);
                    writeValue(w, item, `${path}[${i}]`);
                    w.close(entry);
                });
                w.close(list);
            } else {
                const struct = w.open(5);
                writeStructFields(w, value as Record<string, unknown>, path);
                w.close(struct);
            }
            return;
        }
        default:
            throw new WireError(path, value);
    }
}

/** google.protobuf.Struct of a JSON object, as bytes. */
export function encodeStruct(object: Record<string, unknown>): Buffer {
    const w = new Writer();
    writeStructFields(w, object, "");
    return w.finish();
}

/** Fields 1-5 that AnalyzeRequest and AnalyzerResource share: type, properties, urn, name, options. */
function writeShared(w: Writer, r: WireResource, properties: Uint8Array): void {
    if (r.type) {
        w.string(1, r.type);
    }
    w.bytes(2, properties);
    if (r.urn) {
        w.string(3, r.urn);
    }
    if (r.name) {
        w.string(4, r.name);
    }
    // AnalyzerResourceOptions: protect false (the default, so not written), empty custom
    // timeouts (7), parent (8).
    const options = w.open(5);
    w.close(w.open(7));
    if (r.parent) {
        w.string(8, r.parent);
    }
    w.close(options);
}

/** pulumirpc.AnalyzeRequest for one resource, its properties already encoded (encodeStruct). */
export function encodeAnalyzeRequest(r: WireResource, properties: Uint8Array): Buffer {
    const w = new Writer();
    writeShared(w, r, properties);
    return w.finish();
}

/** pulumirpc.AnalyzeStackRequest over every resource, each with its encoded properties. */
export function encodeAnalyzeStackRequest(
    resources: readonly { resource: WireResource; properties: Uint8Array }[],
): Buffer {
    const w = new Writer();
    for (const { resource: r, properties } of resources) {
        const entry = w.open(1);
        writeShared(w, r, properties);
        if (r.parent) {
            w.string(7, r.parent);
        }
        for (const dependency of r.dependencies) {
            w.string(8, dependency);
        }
        for (const key of Object.keys(r.propertyDependencies).sort()) {
            const mapEntry = w.open(9);
            w.string(1, key);
            const deps = w.open(2);
            for (const urn of r.propertyDependencies[key]) {
                w.string(1, urn);
            }
            w.close(deps);
            w.close(mapEntry);
        }
        w.close(entry);
    }
    return w.finish();
}
