import { strict as assert } from "assert";
import * as path from "path";
import { ProgramError, runProgram } from "../../preview";
import { fixtureStack } from "../helpers/stack";

const FIXTURE = path.join(__dirname, "fixtures", "failing-program");

describe("preview: a program's own bug still names its file and line", function () {
    this.timeout(60_000);

    it("keeps the TypeScript file and line of the failing statement in the error's stack", async () => {
        const before = Error.stackTraceLimit;
        const error = await runProgram(fixtureStack(FIXTURE, "failing")).then(
            () => assert.fail("the program should have failed"),
            (e: unknown) => e,
        );
        assert.ok(error instanceof ProgramError, String(error));
        assert.ok(error.cause instanceof TypeError, String(error.cause));
        assert.match(error.cause.stack ?? "", /failing-program[/\\]index\.ts:10:\d+/);
        // What the command prints: the message, and where in the program's own files it failed.
        assert.match(error.message, /^Cannot read properties of null \(reading 'name'\) \(at index\.ts:10:\d+\)$/);
        assert.equal(error.location?.replace(/:\d+$/, ""), "index.ts:10");
        assert.equal(Error.stackTraceLimit, before, "the stack trace limit is restored");
        assert.ok(
            error.resources.some((r) => r.name === "before"),
            "what it registered before failing is kept",
        );
    });
});
