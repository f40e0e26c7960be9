// The Policy SDK turns a resource's properties from protobuf into JavaScript once for every policy
// that looks at the resource, and once per stack policy for every resource of the stack
// (server.js in @pulumi/policy 1.21.0: `deserialize_1.deserializeProperties(req.getProperties(),
// false)` inside the per-policy loops of Analyze and AnalyzeStack). The pack has 10 resource and 8
// stack policies, so a 1,000-backend stack (2,030 resources) paid for 36,540 conversions of data
// that does not change between them. This keeps the first conversion of each request's properties
// and hands it to the rest.
//
// Shared between policies, so no policy may change it: validations only read (the pack's own
// test harness fails any rule that changes the properties it was given). Remediation asks with
// `true` (it may change and return them) and always gets a fresh conversion.
//
// The SDK reads the function through its module's exports at every call, so replacing the export
// is enough. If a later SDK no longer has it there, the pack says so in one line and runs as the
// SDK made it.

interface DeserializeModule {
    deserializeProperties(outputsStruct: object, proxySecrets: boolean): Record<string, unknown>;
}

/** Replaces the SDK's deserializeProperties with one that converts each properties message once; returns the undo. */
export function deserializeOnce(): () => void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@pulumi/policy/deserialize") as Partial<DeserializeModule>;
    const original = sdk.deserializeProperties;
    // Switched off by the preview's WEBSOCKET_LB_NO_FAST_PATH (preview/fast-paths.ts) to measure it.
    const off = (process.env.WEBSOCKET_LB_NO_FAST_PATH ?? "").split(",").map((s) => s.trim());
    if (off.includes("all") || off.includes("deserialize-once")) {
        return () => undefined;
    }
    if (typeof original !== "function" || original.length !== 2) {
        process.stderr.write(
            "websocket-lb-policies: fast path deserialize-once is off: @pulumi/policy/deserialize no longer exports deserializeProperties(struct, proxySecrets)\n",
        );
        return () => undefined;
    }
    // Keyed by the request's properties message: gone with the request.
    const converted = new WeakMap<object, Record<string, unknown>>();
    sdk.deserializeProperties = (outputsStruct, proxySecrets) => {
        if (proxySecrets || typeof outputsStruct !== "object" || outputsStruct === null) {
            return original(outputsStruct, proxySecrets);
        }
        let props = converted.get(outputsStruct);
        if (props === undefined) {
            props = original(outputsStruct, proxySecrets);
            converted.set(outputsStruct, props);
        }
        return props;
    };
    return () => {
        sdk.deserializeProperties = original;
    };
}
