import { strict as assert } from "assert";
import { main } from "../../deploy/cli";
import { renderTimeline, runPipeline } from "../../deploy/pipeline";
import { options } from "./fixtures";
import { passedGate, standInSuite, statuses } from "./stand-in-suite";

// The deploy command's flags, bounded and checked before any work, and Ctrl-C during the
// baseline's hold.

describe("deploy: flags are checked before any work, one error line each", () => {
    const run = async (...argv: string[]) => {
        const err: string[] = [];
        const code = await main(["--stack", "staging", "--target", "local", "--allow-dirty", ...argv], {
            out: () => undefined,
            err: (t) => err.push(t),
        });
        return { code, err: err.join("\n") };
    };

    for (const [argv, message] of [
        [["--endpoints", ""], /^error: --endpoints "": expected paths starting with \/, comma-separated/],
        [["--endpoints", ","], /^error: --endpoints ",": expected paths starting with \//],
        [["--endpoints", "ws"], /^error: --endpoints "ws": expected paths starting with \//],
        [
            ["--max-handshake-failure", "101"],
            /^error: --max-handshake-failure "101": expected a percentage from 0 to 100/,
        ],
        [
            ["--max-handshake-failure", "1e9%"],
            /^error: --max-handshake-failure "1e9%": expected a percentage from 0 to 100/,
        ],
        [["--max-5xx-increase", "-5"], /^error: --max-5xx-increase "-5": expected a non-negative percentage/],
        [["--max-5xx-increase", "250"], /^error: --max-5xx-increase "250": expected a percentage from 0 to 100/],
        [["-s"], /^error: --stack needs a value/],
    ] as const) {
        it(`${argv.join(" ") || '""'}: exit 2`, async () => {
            const result = await run(...argv);
            assert.equal(result.code, 2, result.err);
            assert.match(result.err, message);
        });
    }

    it("100 % and 0 % are allowed bounds", async () => {
        // --dry-run would still run the gate; a bad --report folder stops right after the flags are read.
        const result = await run(
            "--max-handshake-failure",
            "100",
            "--max-5xx-increase",
            "0%",
            "--report",
            "no-such-dir/r.json",
        );
        assert.match(result.err, /^error: --report no-such-dir\/r\.json: folder no-such-dir does not exist/);
    });
});

describe("deploy: Ctrl-C during the baseline's hold stops it", function () {
    // The hold is 60 s: a test that waited it out would fail on its timeout.
    this.timeout(30_000);
    const { deployOf } = standInSuite();

    it("the first Ctrl-C ends the hold at once: exit 130, nothing changed", async () => {
        const { target, revision } = await deployOf({}, { echo: false });
        const controller = new AbortController();
        const base = options([], { revision, signal: controller.signal });
        const report = await runPipeline(target, passedGate, {
            ...base,
            validation: { ...base.validation, holdSec: 60 },
            log: (line) => {
                if (line.startsWith("▶ baseline")) {
                    setTimeout(() => controller.abort(), 500);
                }
            },
        });
        assert.equal(report.exitCode, 130, renderTimeline(report));
        assert.equal(report.outcome, "interrupted");
        assert.deepEqual(statuses(report).slice(-1), ["baseline validation (recorded, not a gate): skipped"]);
        assert.deepEqual(target.replacements, [], "up never ran");
    });
});
