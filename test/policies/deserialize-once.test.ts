import { strict as assert } from "assert";
import * as path from "path";
import { deserializeOnce, PolicySdkModules, shapeProblem } from "../../policies/lib/deserialize-once";

type Deserialize = (struct: object, proxySecrets: boolean) => Record<string, unknown>;

// The SDK's own modules, as the pack's server uses them.
const sdk = {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    deserialize: require("@pulumi/policy/deserialize") as { deserializeProperties: Deserialize },
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    server: require("@pulumi/policy/server") as PolicySdkModules["server"],
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require(
    require.resolve("google-protobuf/google/protobuf/struct_pb", {
        paths: [path.dirname(require.resolve("@pulumi/policy"))],
    }),
) as {
    Struct: { fromJavaScript(value: Record<string, unknown>): object };
};

describe("policy pack: each resource's properties converted once for all policies", () => {
    const props = { timeoutSec: 86400, sessionAffinity: "GENERATED_COOKIE", backends: [{ group: "ig-a" }] };

    it("the pinned SDK has the shape the replacement relies on", () => {
        assert.equal(shapeProblem(sdk), undefined);
    });

    it("hands every validation of the same request the first conversion, and remediation a fresh one", () => {
        const original = sdk.deserialize.deserializeProperties;
        const notices: string[] = [];
        const undo = deserializeOnce(sdk, (line) => notices.push(line), {});
        try {
            assert.deepEqual(notices, []);
            assert.notEqual(sdk.deserialize.deserializeProperties, original);
            const struct = Struct.fromJavaScript(props);
            const first = sdk.deserialize.deserializeProperties(struct, false);
            assert.deepEqual(first, props);
            assert.equal(sdk.deserialize.deserializeProperties(struct, false), first, "converted again");
            const other = Struct.fromJavaScript(props);
            assert.notEqual(sdk.deserialize.deserializeProperties(other, false), first, "another request got these");
            const remediation = sdk.deserialize.deserializeProperties(struct, true);
            assert.notEqual(remediation, first);
            assert.notEqual(sdk.deserialize.deserializeProperties(struct, true), remediation, "remediation shares");
            assert.equal(remediation.timeoutSec, 86400);
        } finally {
            undo();
        }
        assert.equal(sdk.deserialize.deserializeProperties, original, "not restored");
    });

    it("switched off by WEBSOCKET_LB_NO_FAST_PATH, it leaves the SDK alone and says nothing", () => {
        const original = sdk.deserialize.deserializeProperties;
        for (const off of ["deserialize-once", "all", "wire, deserialize-once"]) {
            const notices: string[] = [];
            deserializeOnce(sdk, (line) => notices.push(line), { WEBSOCKET_LB_NO_FAST_PATH: off })();
            assert.equal(sdk.deserialize.deserializeProperties, original, off);
            assert.deepEqual(notices, [], off);
        }
    });

    it("when the SDK's shape differs, it leaves the SDK alone and says so in one line", () => {
        const original = sdk.deserialize.deserializeProperties;
        const changed: [string, PolicySdkModules, RegExp][] = [
            [
                "a third parameter",
                { ...sdk, deserialize: { deserializeProperties: (a: object, b: boolean, c: unknown) => [a, b, c] } },
                /no longer exports deserializeProperties\(struct, proxySecrets\)/,
            ],
            ["no such export", { ...sdk, deserialize: {} }, /no longer exports deserializeProperties/],
            [
                "a server that took its own reference",
                { ...sdk, server: { ...sdk.server, makeAnalyzeStackRpcFun: () => original } },
                /makeAnalyzeStackRpcFun no longer calls deserialize_1\.deserializeProperties/,
            ],
        ];
        for (const [what, modules, why] of changed) {
            const before = modules.deserialize.deserializeProperties;
            const notices: string[] = [];
            deserializeOnce(modules, (line) => notices.push(line), {});
            assert.equal(modules.deserialize.deserializeProperties, before, `${what}: replaced anyway`);
            assert.equal(notices.length, 1, what);
            assert.match(notices[0], /^websocket-lb-policies: fast path deserialize-once is off: /, what);
            assert.match(notices[0], why, what);
        }
        assert.equal(sdk.deserialize.deserializeProperties, original);
    });
});
