#!/usr/bin/env node
// `npm test`: the type checks (`npm run typecheck`) and the mocha suite side by side. The suite
// spends much of its wall time waiting (held WebSockets, watch windows, a 40 s hold), which the
// type checks fill; one after the other they took 15 s more. Both must pass: the exit code is
// mocha's when it failed, else the type checks'. tsc's output is printed after mocha's, so the
// two never interleave. Arguments go to mocha (`npm test -- --grep affinity`);
// `--typecheck-only` runs the type checks alone (`npm run typecheck`).
//
// `--tier pipeline` (`npm run test:pipeline`) runs the deploy pipeline's whole runs against its
// local stand-in (test/deploy/pipeline/, .mocharc.pipeline.json) instead, without the type
// checks. They start real validators, servers and git worktrees for minutes of CPU between them;
// in `npm test` they pushed it from about 40 s to about 60 s on the 2-core machine, so they are a
// tier of their own, which CI runs (.ci/run) as it runs the engine tier.
//
// Mocha's workers take files in the order given. The suite's wall time is bounded by its longest
// file, the 40 s hold of the shipped scenario suite: started last in glob order it ended the run
// 40 s after everything else had. So the files that wait longest go first (LONG_FIRST), the rest
// after them in glob order, through a copy of the tier's mocharc whose spec is that list. Given
// test files (`npm test -- test/x.test.ts`), it runs those alone, whichever tier they belong to.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const TSC = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
const MOCHA = require.resolve("mocha/bin/mocha.js", { paths: [ROOT] });
const CACHE = path.join(ROOT, "node_modules", ".cache", "websocket-lb");
const BUILD_INFO = path.join(CACHE, "tsc");
/** Each tier's mocha configuration; `npm test` is "unit". */
const TIERS = { unit: ".mocharc.json", pipeline: ".mocharc.pipeline.json" };

/**
 * Test files that spend longest (mostly waiting on held connections and watch windows, not CPU),
 * longest first, as timed in one run on the 2-core machine: the 40 s hold of the shipped scenario
 * suite, then the deploy pipelines (17-22 s each) and the preview command's tests (20 s).
 * test/architecture/test-order.test.ts holds every entry to an existing test file.
 */
const LONG_FIRST = [
    "test/validator/scenario-suite.test.ts",
    "test/deploy/pipeline/pipeline.test.ts",
    "test/deploy/pipeline/triggers.test.ts",
    "test/deploy/pipeline/deployed-state.test.ts",
    "test/preview/cli.test.ts",
    "test/preview/fast-paths.test.ts",
    "test/deploy/pipeline/signals.test.ts",
    "test/deploy/pipeline/triggers-5xx.test.ts",
    "test/validator/validator.test.ts",
    "test/validator/faults.test.ts",
    "test/deploy/pipeline/interrupts.test.ts",
    "test/policies/pack.test.ts",
    "test/policies/pack-verdicts.test.ts",
    "test/preview/policy-config.test.ts",
    "test/preview/policy-config-errors.test.ts",
    "test/deploy/pipeline/zero-downtime.test.ts",
    "test/preview/pack-build.test.ts",
    "test/validator/scenarios.test.ts",
    "test/validator/report-html.test.ts",
    "test/validator/synthetic-monitor.test.ts",
    "test/engine/gcp-standin.test.ts",
    "test/infra/security.test.ts",
    "test/validator/security.test.ts",
];

/** A tier's mocharc, the options every run of that tier uses. */
function mocharc(tier = "unit") {
    return JSON.parse(fs.readFileSync(path.join(ROOT, TIERS[tier]), "utf8"));
}

/** The files a mocharc's spec names less its ignores, as mocha itself expands them, relative to the root. */
function specFiles(config = mocharc()) {
    const collect = require(require.resolve("mocha/lib/cli/collect-files.cjs", { paths: [ROOT] }));
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
        const { files } = collect({
            spec: config.spec,
            extension: config.extension,
            ignore: config.ignore ?? [],
            file: [],
            recursive: false,
            sort: false,
        });
        return files.map((f) => path.relative(ROOT, f).split(path.sep).join("/"));
    } finally {
        process.chdir(cwd);
    }
}

/** The order the suite's files are handed to mocha's workers: LONG_FIRST, then the rest. */
function orderedTestFiles(config = mocharc()) {
    const files = specFiles(config);
    return [...LONG_FIRST.filter((f) => files.includes(f)), ...files.filter((f) => !LONG_FIRST.includes(f))];
}

/**
 * Mocha's arguments: a copy of .mocharc.json whose spec is the ordered list, or, when the caller
 * named test files (`npm test -- test/x.test.ts`), no spec at all, so those files alone run.
 */
function mochaArgs(tier, args) {
    const named = args.some((a) => !a.startsWith("-") && /\.ts$/.test(a) && fs.existsSync(path.resolve(ROOT, a)));
    const config = mocharc(tier);
    const file = path.join(CACHE, `mocharc.${tier}.ordered.json`);
    fs.mkdirSync(CACHE, { recursive: true });
    const ordered = named ? { spec: [], ignore: [] } : { spec: orderedTestFiles(config) };
    fs.writeFileSync(file, JSON.stringify({ ...config, ...ordered }, null, 2));
    return ["--config", file, ...args];
}

/** Runs a command to its end; its output is kept unless `inherit`. */
function run(args, inherit) {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, args, {
            cwd: ROOT,
            stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
        });
        let output = "";
        if (!inherit) {
            child.stdout.on("data", (c) => (output += c));
            child.stderr.on("data", (c) => (output += c));
        }
        child.on("error", (e) => resolve({ code: 1, output: `${output}${e.message}\n` }));
        child.on("close", (code, signal) =>
            resolve({ code: code ?? 1, output: signal ? `${output}(ended by ${signal})\n` : output }),
        );
    });
}

/** `npm run typecheck`'s two checks, in turn (they would only compete with each other). */
async function typecheck() {
    const results = [];
    for (const [project, info] of [
        [".", "root.tsbuildinfo"],
        ["policies", "policies.tsbuildinfo"],
    ]) {
        const result = await run(
            [TSC, "--noEmit", "--incremental", "--tsBuildInfoFile", path.join(BUILD_INFO, info), "-p", project],
            false,
        );
        results.push({ project, ...result });
    }
    return results;
}

/** `--tier NAME` (one of TIERS) and the arguments left for mocha. */
function tierOf(argv) {
    const at = argv.indexOf("--tier");
    if (at === -1) return { tier: "unit", rest: argv };
    const tier = argv[at + 1];
    if (!Object.hasOwn(TIERS, tier)) {
        process.stderr.write(`--tier: "${tier ?? ""}" is not a test tier; allowed: ${Object.keys(TIERS).join(", ")}\n`);
        process.exit(2);
    }
    return { tier, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

async function main() {
    const argv = process.argv.slice(2);
    if (argv[0] === "--typecheck-only") return report(await typecheck(), { code: 0 });
    const { tier, rest } = tierOf(argv);
    if (tier !== "unit") {
        process.exitCode = (await run([MOCHA, ...mochaArgs(tier, rest)], true)).code;
        return;
    }
    const checking = typecheck();
    const mocha = await run([MOCHA, ...mochaArgs(tier, rest)], true);
    report(await checking, mocha);
}

/** Prints the type checks' results and sets the exit code: mocha's when it failed, else the checks'. */
function report(checks, mocha) {
    for (const { project, code, output } of checks) {
        const what = project === "." ? "the program, tests and tools" : "the policy pack";
        process.stdout.write(
            code === 0
                ? `type check of ${what} (tsc -p ${project}): no errors\n`
                : `type check of ${what} (tsc -p ${project}) FAILED:\n${output}`,
        );
    }
    const failedCheck = checks.find((c) => c.code !== 0);
    process.exitCode = mocha.code !== 0 ? mocha.code : failedCheck ? failedCheck.code : 0;
}

if (require.main === module) {
    main();
}

module.exports = { LONG_FIRST, TIERS, mocharc, specFiles, orderedTestFiles };
