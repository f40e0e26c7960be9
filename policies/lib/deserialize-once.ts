// The Policy SDK turns a resource's properties from protobuf into JavaScript once for every policy
// that looks at the resource, and once per stack policy for every resource of the stack
// (server.js in @pulumi/policy 1.21.0: `deserialize_1.deserializeProperties(req.getProperties(),
// false)` inside the per-policy loops of Analyze and AnalyzeStack). At 1,000 backends (2,030
// resources) that is tens of thousands of conversions of data that does not change between them.
// This keeps the first conversion of each request's properties and hands it to the rest: the pack
// alone judges that stack with about a fifth less CPU and wall time (docs/benchmarks.md).
//
// Shared between policies, so no policy may change it: validations only read (the pack's own
// test harness fails any rule that changes the properties it was given). Remediation asks with
// `true` (it may change and return them) and always gets a fresh conversion.
//
// It replaces an export of an SDK module that the SDK's server reads through the module object at
// every call. Both halves of that are checked once at start-up; when either differs, the pack
// says so in one line on stderr and runs on the SDK's own conversion, with the same verdicts.

const FAST_PATH = "deserialize-once";
/** The switch the offline preview's fast paths share (preview/fast-paths.ts); the pack inherits it. */
const NO_FAST_PATH_ENV = "WEBSOCKET_LB_NO_FAST_PATH";

type Deserialize = (outputsStruct: object, proxySecrets: boolean) => Record<string, unknown>;

/** The two SDK modules this relies on, as far as it relies on them. */
export interface PolicySdkModules {
    readonly deserialize: { deserializeProperties?: unknown };
    readonly server: { makeAnalyzeRpcFun?: unknown; makeAnalyzeStackRpcFun?: unknown };
}

function sdkModules(): PolicySdkModules {
    return {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped internal modules of the SDK
        deserialize: require("@pulumi/policy/deserialize") as PolicySdkModules["deserialize"],
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped internal modules of the SDK
        server: require("@pulumi/policy/server") as PolicySdkModules["server"],
    };
}

/** What differs from the shape the replacement relies on, or undefined when nothing does. */
export function shapeProblem(sdk: PolicySdkModules): string | undefined {
    const original = sdk.deserialize.deserializeProperties;
    if (typeof original !== "function" || original.length !== 2) {
        return "@pulumi/policy/deserialize no longer exports deserializeProperties(struct, proxySecrets)";
    }
    for (const name of ["makeAnalyzeRpcFun", "makeAnalyzeStackRpcFun"] as const) {
        const made = sdk.server[name];
        // The replacement reaches the server only while it calls the function through the module.
        if (typeof made !== "function" || !made.toString().includes("deserialize_1.deserializeProperties(")) {
            return `@pulumi/policy/server's ${name} no longer calls deserialize_1.deserializeProperties`;
        }
    }
    return undefined;
}

function switchedOff(env: NodeJS.ProcessEnv): boolean {
    const off = (env[NO_FAST_PATH_ENV] ?? "").split(",").map((s) => s.trim());
    return off.includes("all") || off.includes(FAST_PATH);
}

/** One conversion per properties message, for every validation that reads it. */
function convertingOnce(original: Deserialize): Deserialize {
    // Keyed by the request's properties message: gone with the request.
    const converted = new WeakMap<object, Record<string, unknown>>();
    return (outputsStruct, proxySecrets) => {
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
}

/**
 * Replaces the SDK's deserializeProperties with one that converts each properties message once,
 * unless switched off or the SDK's shape differs (then one notice line through `notice`); returns
 * the undo.
 */
export function deserializeOnce(
    sdk: PolicySdkModules = sdkModules(),
    notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    env: NodeJS.ProcessEnv = process.env,
): () => void {
    if (switchedOff(env)) {
        return () => undefined;
    }
    const problem = shapeProblem(sdk);
    if (problem !== undefined) {
        notice(
            `websocket-lb-policies: fast path ${FAST_PATH} is off: ${problem}; each policy converts the properties itself`,
        );
        return () => undefined;
    }
    const original = sdk.deserialize.deserializeProperties as Deserialize;
    sdk.deserialize.deserializeProperties = convertingOnce(original);
    return () => {
        sdk.deserialize.deserializeProperties = original;
    };
}
