import { strict as assert } from "assert";
import * as path from "path";
import { loadStackConfig, ProgramError, ProgramRun, runProgram, RunOptions } from "../../preview";
import { fixtureStack, PROJECT_DIR } from "../helpers/stack";

// preview/lean-runtime.ts replaces two functions of the Pulumi SDK while the offline preview runs a
// program. These hold that it changes nothing the preview reports, and that it is really in effect.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { transferProperties: (...args: unknown[]) => unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise: (...args: unknown[]) => unknown;
};

/** A run in a form that does not depend on the order concurrent registrations arrived in. */
function canonical(run: ProgramRun): { resources: string[]; outputs: string } {
    return { resources: run.resources.map((r) => JSON.stringify(r)).sort(), outputs: JSON.stringify(run.outputs) };
}

/** Runs the stack with the SDK's two functions wrapped to count their calls. */
async function counted(
    stack: string,
    options: RunOptions,
    overrides: string[] = [],
): Promise<{ run: ProgramRun; sdkCalls: number }> {
    const sdk = { transferProperties: rpc.transferProperties, debuggablePromise: debuggable.debuggablePromise };
    let sdkCalls = 0;
    rpc.transferProperties = (...args) => (sdkCalls++, sdk.transferProperties(...args));
    debuggable.debuggablePromise = (...args) => (sdkCalls++, sdk.debuggablePromise(...args));
    try {
        return {
            run: await runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack, overrides }), options),
            sdkCalls,
        };
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
        {
            stack: "staging",
            unknownAtPreview: false,
            overrides: [
                'alertRoutes={"operations":["email:ops@example.com","pubsub"],"business":["email:b@example.com"]}',
            ],
        },
    ];
    for (const { stack, unknownAtPreview, overrides } of cases) {
        it(`${stack}${unknownAtPreview ? ", ids unknown as at a new stack's preview" : ""}${overrides ? ", with alert routes" : ""}: the same resources, inputs and outputs as the SDK alone`, async () => {
            const lean = await counted(stack, { unknownAtPreview }, overrides);
            const sdk = await counted(stack, { unknownAtPreview, leanRuntime: false }, overrides);
            assert.equal(
                lean.sdkCalls,
                0,
                "with the lean runtime on, the SDK's own transferProperties and debuggablePromise are not called",
            );
            assert.ok(sdk.sdkCalls > sdk.run.resources.length, `with it off they are (${sdk.sdkCalls} calls)`);
            assert.ok(lean.run.resources.length > 30, `only ${lean.run.resources.length} resources`);
            assert.deepEqual(canonical(lean.run), canonical(sdk.run));
        });
    }

    it("gives the SDK its own functions back after a run, a failed one too", async () => {
        const before = { transferProperties: rpc.transferProperties, debuggablePromise: debuggable.debuggablePromise };
        await runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack: "staging" }));
        const failed = await runProgram(
            loadStackConfig({ projectDir: PROJECT_DIR, stack: "staging", overrides: ["backendTimeoutSec=0"] }),
        ).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(failed instanceof Error, "the second run fails on its config");
        assert.equal(rpc.transferProperties, before.transferProperties);
        assert.equal(debuggable.debuggablePromise, before.debuggablePromise);
    });
});

describe("preview: the lean runtime and a program's reads of resource properties", function () {
    this.timeout(60_000);
    const fixture = (name: string) => fixtureStack(path.join(__dirname, "fixtures", name));

    it("gives what the SDK gives for reads before and after the registration returns, twice, after an assignment and through Object.keys", async () => {
        const lean = await runProgram(fixture("late-reads"));
        const sdk = await runProgram(fixture("late-reads"), { leanRuntime: false });
        const check = lean.resources.find((r) => r.name === "hc")!;
        assert.deepEqual(lean.outputs, {
            earlySelfLink: `https://www.googleapis.com/compute/v1/${check.id}`,
            lateReads: { interval: 7, port: 8080, name: check.inputs.name },
            sameOutput: true,
            assignedDescription: "set by the program",
            enumerated: ["selfLink", "timeoutSec", "unhealthyThreshold"],
        });
        assert.deepEqual(canonical(lean), canonical(sdk));
    });

    it("fails a program whose registration fails as the SDK does", async () => {
        const failure = (options: RunOptions) =>
            runProgram(fixture("failed-registration"), options).then(
                () => assert.fail("the program should have failed"),
                (e: unknown) => e as ProgramError,
            );
        const lean = await failure({});
        const sdk = await failure({ leanRuntime: false });
        assert.ok(lean instanceof ProgramError, String(lean));
        assert.match(lean.message, /the description could not be computed/);
        assert.equal(lean.message, sdk.message);
        assert.deepEqual(lean.resources.map((r) => r.name).sort(), sdk.resources.map((r) => r.name).sort());
    });
});
