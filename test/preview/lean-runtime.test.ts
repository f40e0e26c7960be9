import { strict as assert } from "assert";
import { loadStackConfig, ProgramRun, runProgram, RunOptions } from "../../preview";
import { PROJECT_DIR } from "../helpers/stack";

// preview/lean-runtime.ts replaces two functions of the Pulumi SDK while the offline preview runs a
// program. These hold that it changes nothing the preview reports, and that it is really in effect.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { transferProperties: (...args: unknown[]) => unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (...args: unknown[]) => unknown };

/** A run in a form that does not depend on the order concurrent registrations arrived in. */
function canonical(run: ProgramRun): { resources: string[]; outputs: string } {
    return { resources: run.resources.map((r) => JSON.stringify(r)).sort(), outputs: JSON.stringify(run.outputs) };
}

/** Runs the stack with the SDK's two functions wrapped to count their calls. */
async function counted(stack: string, options: RunOptions, overrides: string[] = []): Promise<{ run: ProgramRun; sdkCalls: number }> {
    const sdk = { transferProperties: rpc.transferProperties, debuggablePromise: debuggable.debuggablePromise };
    let sdkCalls = 0;
    rpc.transferProperties = (...args) => (sdkCalls++, sdk.transferProperties(...args));
    debuggable.debuggablePromise = (...args) => (sdkCalls++, sdk.debuggablePromise(...args));
    try {
        return { run: await runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack, overrides }), options), sdkCalls };
    } finally {
        Object.assign(rpc, { transferProperties: sdk.transferProperties });
        Object.assign(debuggable, { debuggablePromise: sdk.debuggablePromise });
    }
}

describe("preview: the lean runtime changes nothing the preview reports", function () {
    this.timeout(120_000);

    const cases: { stack: string; unknownAtPreview: boolean; overrides?: string[] }[] = [
        { stack: "staging", unknownAtPreview: false },
        { stack: "staging", unknownAtPreview: true },
        { stack: "production", unknownAtPreview: false },
        { stack: "staging", unknownAtPreview: false, overrides: ['alertRoutes={"operations":["email:ops@example.com","pubsub"],"business":["email:b@example.com"]}'] },
    ];
    for (const { stack, unknownAtPreview, overrides } of cases) {
        it(`${stack}${unknownAtPreview ? ", ids unknown as at a new stack's preview" : ""}${overrides ? ", with alert routes" : ""}: the same resources, inputs and outputs as the SDK alone`, async () => {
            const lean = await counted(stack, { unknownAtPreview }, overrides);
            const sdk = await counted(stack, { unknownAtPreview, leanRuntime: false }, overrides);
            assert.equal(lean.sdkCalls, 0, "with the lean runtime on, the SDK's own transferProperties and debuggablePromise are not called");
            assert.ok(sdk.sdkCalls > sdk.run.resources.length, `with it off they are (${sdk.sdkCalls} calls)`);
            assert.ok(lean.run.resources.length > 30, `only ${lean.run.resources.length} resources`);
            assert.deepEqual(canonical(lean.run), canonical(sdk.run));
        });
    }

    it("gives the SDK its own functions back after a run, a failed one too", async () => {
        const before = { transferProperties: rpc.transferProperties, debuggablePromise: debuggable.debuggablePromise };
        await runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack: "staging" }));
        const failed = await runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack: "staging", overrides: ["backendTimeoutSec=0"] })).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(failed instanceof Error, "the second run fails on its config");
        assert.equal(rpc.transferProperties, before.transferProperties);
        assert.equal(debuggable.debuggablePromise, before.debuggablePromise);
    });
});
