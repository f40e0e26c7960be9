import { strict as assert } from "assert";
import { peek, UNKNOWN } from "../../policies/lib/props";
import { sdkProxy } from "../../policies/lib/sdk-proxy";

describe("policy pack: reading properties that may be unknown", () => {
    const props = sdkProxy.unknownCheckingProxy({ timeoutSec: 86400, selfLink: sdkProxy.unknownStringValue }) as Record<
        string,
        unknown
    >;

    it("peek answers UNKNOWN for an unknown value and the value otherwise, and puts stack traces back", () => {
        const limit = Error.stackTraceLimit;
        assert.equal(
            peek(() => props.selfLink),
            UNKNOWN,
        );
        assert.equal(
            peek(() => props.timeoutSec),
            86400,
        );
        assert.equal(Error.stackTraceLimit, limit);
    });

    it("a bug inside a peek still throws an error whose stack names the file and line", () => {
        const broken = () => (props.missing as { name: string }).name;
        assert.throws(
            () => peek(broken),
            (e: Error) => e instanceof TypeError && /props\.test\.ts:\d+/.test(e.stack ?? ""),
        );
    });
});
