import { strict as assert } from "assert";
import * as path from "path";
import { ROOT } from "../helpers/cli";

// scripts/test.js hands mocha an ordered list of files instead of .mocharc.json's glob. The list
// must be the glob's files, each once: a file it dropped would never run, one it named twice
// would run twice, and a LONG_FIRST entry left behind by a rename would quietly order nothing.
interface TestScript {
    LONG_FIRST: string[];
    /** The files .mocharc.json's spec names, as mocha's own collect-files expands it. */
    specFiles(): string[];
    orderedTestFiles(): string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(path.join(ROOT, "scripts", "test.js")) as TestScript;

describe("npm test's file order (scripts/test.js)", () => {
    it("names every file of .mocharc.json's spec exactly once", () => {
        const ordered = script.orderedTestFiles();
        const expected = script.specFiles();
        assert.ok(expected.length > 30, `mocha found only ${expected.length} test files`);
        assert.equal(new Set(ordered).size, ordered.length, "a file is named twice");
        assert.deepEqual([...ordered].sort(), [...expected].sort());
    });

    it("starts with the long files, in LONG_FIRST's order, each of them a test file", () => {
        const files = new Set(script.specFiles());
        for (const entry of script.LONG_FIRST) {
            assert.ok(files.has(entry), `LONG_FIRST names ${entry}, which is not a test file`);
        }
        assert.deepEqual(script.orderedTestFiles().slice(0, script.LONG_FIRST.length), script.LONG_FIRST);
    });
});
