import { strict as assert } from "assert";
import * as path from "path";
import { ROOT } from "../helpers/cli";

// scripts/test.js hands mocha an ordered list of files instead of a tier's glob. The list must be
// the glob's files, each once: a file it dropped would never run, one it named twice would run
// twice, and a LONG_FIRST entry left behind by a rename would quietly order nothing. Every test
// file belongs to exactly one tier (`npm test`, `npm run test:pipeline`), all of which CI runs.
interface Mocharc {
    spec: string[];
    ignore?: string[];
}
interface TestScript {
    LONG_FIRST: string[];
    TIERS: Record<string, string>;
    mocharc(tier?: string): Mocharc;
    /** The files a mocharc's spec names less its ignores, as mocha's own collect-files expands them. */
    specFiles(config?: Mocharc): string[];
    orderedTestFiles(config?: Mocharc): string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(path.join(ROOT, "scripts", "test.js")) as TestScript;

describe("the test tiers and their file order (scripts/test.js)", () => {
    it("names every file of .mocharc.json's spec exactly once", () => {
        const ordered = script.orderedTestFiles();
        const expected = script.specFiles();
        assert.ok(expected.length > 30, `mocha found only ${expected.length} test files`);
        assert.equal(new Set(ordered).size, ordered.length, "a file is named twice");
        assert.deepEqual([...ordered].sort(), [...expected].sort());
    });

    it("gives every test file to exactly one tier, so none is left out of CI and none runs twice", () => {
        const everyFile = script.specFiles({ spec: ["test/**/*.test.ts"] });
        const tiers = Object.keys(script.TIERS).map((tier) => script.specFiles(script.mocharc(tier)));
        assert.ok(tiers.length >= 2 && tiers.every((files) => files.length > 0), "a tier has no test files");
        const inSomeTier = tiers.flat();
        assert.equal(new Set(inSomeTier).size, inSomeTier.length, "a file is in two tiers");
        assert.deepEqual([...inSomeTier].sort(), [...everyFile].sort());
    });

    it("orders each tier's files, each once, and that order is what its run is given", () => {
        for (const tier of Object.keys(script.TIERS)) {
            const config = script.mocharc(tier);
            const ordered = script.orderedTestFiles(config);
            assert.equal(new Set(ordered).size, ordered.length, `${tier}: a file is named twice`);
            assert.deepEqual([...ordered].sort(), [...script.specFiles(config)].sort(), tier);
        }
    });

    it("starts with the long files, in LONG_FIRST's order, each of them a test file", () => {
        const tiers = Object.keys(script.TIERS).map((tier) => script.mocharc(tier));
        const files = new Set(tiers.flatMap((config) => script.specFiles(config)));
        for (const entry of script.LONG_FIRST) {
            assert.ok(files.has(entry), `LONG_FIRST names ${entry}, which is not a test file`);
        }
        for (const config of tiers) {
            const own = new Set(script.specFiles(config));
            const long = script.LONG_FIRST.filter((f) => own.has(f));
            assert.deepEqual(script.orderedTestFiles(config).slice(0, long.length), long);
        }
    });
});
