// Mutation testing of the verdict logic: the policy pack's rules and helpers, and the validator's
// judging code (thresholds, failure codes, run metrics, a probe's hold and diagnosis, scenario
// step matching). `npm run mutation`; docs/quality.md has the scores and the survivors judged
// equivalent.
//
// Test runner: Stryker's mocha runner, because it loads the project's own .mocharc.json and its
// TypeScript hook (cli/register.js) unchanged and measures coverage per test, so each mutant runs
// only the tests that reach it. mocha-runner 10.0.0 declares mocha 12 but requires mocha's CLI
// helpers by their pre-12 names (lib/cli/run-helpers, now run-helpers.cjs); `npm run mutation`
// (scripts/mutation.js) preloads scripts/stryker-mocha-12.js, which lets require() find .cjs
// files, instead of patching node_modules. The runner runs mocha in one process (no parallel
// mode). The command runner was the other choice: it reruns a whole test subset for every
// mutant, hours for the pack alone on the 2-core machine.
//
// Message text is not verdict logic: string literals and template strings are not mutated
// (StringLiteral), and static mutants (constants built once at load) are skipped (ignoreStatic),
// since they force every test to run for each of them.
export default {
    packageManager: "npm",
    testRunner: "mocha",
    mochaOptions: {
        config: ".mocharc.json",
        // The tests that judge verdicts; the deploy, engine and preview-command files only reach
        // this code through child processes, where Stryker's coverage cannot follow.
        spec: ["test/policies/**/*.test.ts", "test/validator/**/*.test.ts"],
    },
    mutate: [
        "policies/rules/**/*.ts",
        "policies/lib/**/*.ts",
        "validator/report/thresholds.ts",
        "validator/core/codes.ts",
        "validator/run.ts",
        "validator/core/probe.ts",
        "validator/scenario/**/*.ts",
        // Wiring, not verdicts: the SDK's proxy, the once-only deserializer, report plumbing.
        "!policies/lib/sdk-proxy.ts",
        "!policies/lib/deserialize-once.ts",
        "!policies/lib/report.ts",
        "!validator/scenario/flags.ts",
        "!validator/scenario/index.ts",
    ],
    mutator: { excludedMutations: ["StringLiteral"] },
    ignoreStatic: true,
    coverageAnalysis: "perTest",
    // TypeScript is run by cli/register.js without a type check; Stryker must not add one.
    checkers: [],
    disableTypeChecks: "{policies,validator}/**/*.ts",
    incremental: true,
    incrementalFile: "reports/stryker-incremental.json",
    reporters: ["clear-text", "progress", "html", "json"],
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    // The machine is shared: one mutant at a time, generous timeouts for a loaded CPU.
    concurrency: 1,
    timeoutMS: 30000,
    timeoutFactor: 3,
    tempDirName: ".stryker-tmp",
    cleanTempDir: "always",
    thresholds: { high: 90, low: 85, break: null },
};
