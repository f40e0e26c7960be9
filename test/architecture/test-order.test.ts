import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/cli";

// scripts/test.js hands mocha an ordered list of files instead of .mocharc.json's glob. The list
// must be the glob's files, each once: a file it dropped would never run, one it named twice
// would run twice, and a LONG_FIRST entry left behind by a rename would quietly order nothing.
interface TestScript {
    LONG_FIRST: string[];
    orderedTestFiles(root?: string): string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(path.join(ROOT, "scripts", "test.js")) as TestScript;

/** The files mocha itself finds for .mocharc.json's spec, relative to the root. */
function mochaSpecFiles(): string[] {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, ".mocharc.json"), "utf8")) as { spec: string[]; extension: string[] };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const collect = require("mocha/lib/cli/collect-files.cjs") as (options: object) => { files: string[] };
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
        const { files } = collect({ spec: config.spec, extension: config.extension, ignore: [], file: [], recursive: false, sort: false });
        return files.map((f) => path.relative(ROOT, f).split(path.sep).join("/"));
    } finally {
        process.chdir(cwd);
    }
}

describe("npm test's file order (scripts/test.js)", () => {
    it("names every file of .mocharc.json's spec exactly once", () => {
        const ordered = script.orderedTestFiles();
        const expected = mochaSpecFiles();
        assert.ok(expected.length > 30, `mocha found only ${expected.length} test files`);
        assert.equal(new Set(ordered).size, ordered.length, "a file is named twice");
        assert.deepEqual([...ordered].sort(), [...expected].sort());
    });

    it("starts with the long files, in LONG_FIRST's order, each of them a test file", () => {
        const files = new Set(mochaSpecFiles());
        for (const entry of script.LONG_FIRST) {
            assert.ok(files.has(entry), `LONG_FIRST names ${entry}, which is not a test file`);
        }
        assert.deepEqual(script.orderedTestFiles().slice(0, script.LONG_FIRST.length), script.LONG_FIRST);
    });
});
