import { strict as assert } from "assert";
import * as path from "path";
import { deserializeOnce } from "../../policies/lib/deserialize-once";

// The SDK's own modules, as the pack's server uses them.
const sdk = require("@pulumi/policy/deserialize") as {
    deserializeProperties(struct: object, proxySecrets: boolean): Record<string, unknown>;
};
const { Struct } = require(
    require.resolve("google-protobuf/google/protobuf/struct_pb", {
        paths: [path.dirname(require.resolve("@pulumi/policy"))],
    }),
) as {
    Struct: { fromJavaScript(value: Record<string, unknown>): object };
};

describe("policy pack: each resource's properties converted once for all policies", () => {
    const props = { timeoutSec: 86400, sessionAffinity: "GENERATED_COOKIE", backends: [{ group: "ig-a" }] };

    it("hands every validation of the same request the first conversion, and remediation a fresh one", () => {
        const original = sdk.deserializeProperties;
        const undo = deserializeOnce();
        try {
            assert.notEqual(sdk.deserializeProperties, original);
            const struct = Struct.fromJavaScript(props);
            const first = sdk.deserializeProperties(struct, false);
            assert.deepEqual(first, props);
            assert.equal(sdk.deserializeProperties(struct, false), first, "converted again");
            const other = Struct.fromJavaScript(props);
            assert.notEqual(
                sdk.deserializeProperties(other, false),
                first,
                "another request got this one's properties",
            );
            const remediation = sdk.deserializeProperties(struct, true);
            assert.notEqual(remediation, first);
            assert.notEqual(
                sdk.deserializeProperties(struct, true),
                remediation,
                "remediation shares a copy it may change",
            );
            assert.equal(remediation.timeoutSec, 86400);
        } finally {
            undo();
        }
        assert.equal(sdk.deserializeProperties, original, "not restored");
        const struct = Struct.fromJavaScript(props);
        assert.notEqual(sdk.deserializeProperties(struct, false), sdk.deserializeProperties(struct, false));
    });
});
