// Mutation testing of the verdict logic: the policy pack's rules and helpers, and the validator's
// judging code (thresholds, failure codes, run metrics, a probe's hold and diagnosis, scenario
// step matching). `npm run mutation` (scripts/mutation.js) runs it in two passes and adds them
// up; docs/quality.md has the scores and the survivors judged equivalent.
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
// Two passes, because of static mutants: a mutant of code that runs once, while its module loads
// (a fact table, `HANDSHAKE_FAILURES`, `DEFAULT_THRESHOLDS`, the callback a rule object holds),
// is active only if the module loads with it, so Stryker starts a fresh runner for it and runs
// every test of the spec. That reload works (a fresh runner loads the sandbox with the mutant
// active). What made such mutants "survive" is that, when a test also reaches them at run time
// ("hybrid"), ignoreStatic runs them with their tests in a runner whose modules loaded unmutated.
// - The runtime pass (MUTATION_PASS unset): static mutants skipped (ignoreStatic); each other
//   mutant runs the tests that reach it. scripts/mutation.js takes the static pass's verdict for
//   a hybrid one.
// - The static pass (MUTATION_PASS=static): only code outside any function body (module level)
//   is mutated, and each mutant runs the whole spec in a fresh runner: all the pack's tests (about
//   7 s), or the validator's test files that read its tables without long holds (its whole suite
//   waits about 100 s on real servers). A test left out of a spec can only miss a kill, never
//   invent one: the score is a floor.
// Each pass runs per area (MUTATION_AREA=pack|validator), with its own results and reports.
//
// Message text is not verdict logic: string literals and template strings are not mutated
// (StringLiteral), nor what is computed only for a message (the MessageText ignorer below).
const PASS = process.env.MUTATION_PASS === "static" ? "static" : "runtime";
/**
 * Each pass runs per area (MUTATION_AREA), each run with its own results: the pack's mutants take
 * milliseconds, the validator's seconds, and a change to one area's tests leaves the other's
 * results alone. No area: both.
 */
const AREA = ["pack", "validator"].includes(process.env.MUTATION_AREA) ? process.env.MUTATION_AREA : undefined;
/** This run's name: its spec, its results file, its reports' folder. */
const RUN = `${PASS === "static" ? "static-" : ""}${AREA ?? "all"}`;

/** Ignores what runs after load: a function's body and parameters (the runtime pass judges them). */
const moduleLevelOnly = {
    kind: "Ignore",
    name: "ModuleLevelOnly",
    value: {
        shouldIgnore(path) {
            const parent = path.parentPath;
            if (parent?.isFunction() && (path.key === "body" || path.listKey === "params")) {
                return "Runs after load: judged by the runtime pass";
            }
            if (parent?.isClassProperty() && path.key === "value") {
                return "Runs when an instance is made: judged by the runtime pass";
            }
            return undefined;
        },
    },
};
/** The name a call is made by: `explain(...)`, `r.failed(...)`. */
function calleeName(call) {
    const callee = call.node.callee;
    return callee.type === "Identifier" ? callee.name : callee.property?.name;
}

/** Which arguments of these calls are message text only (no verdict reads them). */
const MESSAGE_ARGUMENTS = {
    // policies/lib/report.ts: resource, property, found, required, fix and why, as a sentence.
    explain: () => true,
    // The reason the Policy SDK shows for a resource a rule does not judge.
    notApplicable: () => true,
    // validator/core/codes.ts failure(code, message, evidence): the message.
    failure: (i) => i === 1,
    // A scenario step's failed(code, message, expected, evidence): the message and what it expected.
    failed: (i) => i === 1 || i === 2,
};

/**
 * Ignores message wording that string literals alone do not cover: the arguments above, and a
 * diagnosis's `text` beside its `diagnosis`. Whether a message is given, its code and evidence
 * stay mutated.
 */
const messageText = {
    kind: "Ignore",
    name: "MessageText",
    value: {
        shouldIgnore(path) {
            const parent = path.parentPath;
            if (parent?.isCallExpression() && path.listKey === "arguments") {
                const isMessage = MESSAGE_ARGUMENTS[calleeName(parent)];
                if (isMessage?.(path.key)) {
                    return "Message text";
                }
            }
            if (
                parent?.isObjectProperty() &&
                path.key === "value" &&
                parent.node.key.name === "text" &&
                parent.parentPath.node.properties.some((p) => p.key?.name === "diagnosis")
            ) {
                return "Message text";
            }
            return undefined;
        },
    },
};
export const strykerPlugins = [moduleLevelOnly, messageText];

const PACK_TESTS = ["test/policies/**/*.test.ts"];
// The validator's tests of verdicts; the HTML report, the synthetic monitor's wrapper, --resolve
// and the security checks judge nothing mutated here.
const VALIDATOR_TESTS = [
    "test/validator/verdicts.test.ts",
    "test/validator/validator.test.ts",
    "test/validator/faults.test.ts",
    "test/validator/scenarios.test.ts",
    "test/validator/scenario-suite.test.ts",
    "test/validator/deadlines.test.ts",
    "test/validator/merge.test.ts",
    "test/validator/affinity.test.ts",
];
// The validator's files that read its tables (failure codes, close codes, thresholds, step kinds)
// without holding connections for long.
const VALIDATOR_STATIC_TESTS = [
    "test/validator/verdicts.test.ts",
    "test/validator/faults.test.ts",
    "test/validator/scenarios.test.ts",
];
const SPEC = {
    pack: PACK_TESTS,
    validator: VALIDATOR_TESTS,
    all: [...PACK_TESTS, ...VALIDATOR_TESTS],
    "static-pack": PACK_TESTS,
    "static-validator": VALIDATOR_STATIC_TESTS,
    "static-all": [...PACK_TESTS, ...VALIDATOR_STATIC_TESTS],
};

const MUTATE = [
    "policies/rules/**/*.ts",
    "policies/lib/**/*.ts",
    // Wiring, not verdicts: the SDK's proxy, the message builder, and the Policy SDK patch that
    // converts each resource's properties once (its start-up shape check and switch-off; its
    // verdicts are held equal to the SDK's own path by test/preview/fast-paths.test.ts).
    "!policies/lib/sdk-proxy.ts",
    "!policies/lib/report.ts",
    "!policies/lib/deserialize-once.ts",
    // The validator's judging code, and no more: thresholds, failure codes, the run's metrics
    // (tallyOf) and verdict (judge), a probe's echo, hold and diagnosis, a scenario step's
    // matching (expect, close, ping, the connect step's status) with the templates it compares.
    // Parsing, flags, orchestration and rendering are not mutated: their tests wait on real
    // servers too, and each of their mutants would cost seconds without judging a verdict.
    "validator/report/thresholds.ts",
    "validator/core/codes.ts",
    "validator/run.ts:59-110",
    "validator/run.ts:179-208",
    "validator/core/probe.ts",
    "validator/scenario/steps/expect.ts:82-158",
    "validator/scenario/steps/close.ts:24-55",
    "validator/scenario/steps/ping.ts:10-36",
    "validator/scenario/steps/connect.ts:28-67",
    "validator/scenario/connection.ts",
    "validator/scenario/template.ts",
];

export default {
    packageManager: "npm",
    testRunner: "mocha",
    mochaOptions: {
        config: ".mocharc.json",
        // The tests that judge verdicts; the deploy, engine and preview-command files only reach
        // this code through child processes, where Stryker's coverage cannot follow.
        spec: SPEC[RUN],
    },
    mutate: MUTATE.filter(
        (glob) => AREA === undefined || glob.replace(/^!/, "").startsWith(AREA === "pack" ? "policies/" : "validator/"),
    ),
    mutator: { excludedMutations: ["StringLiteral"] },
    ignoreStatic: PASS === "runtime",
    ignorers: PASS === "static" ? ["MessageText", "ModuleLevelOnly"] : ["MessageText"],
    appendPlugins: ["./stryker.config.mjs"],
    coverageAnalysis: "perTest",
    // TypeScript is run by cli/register.js without a type check; Stryker must not add one.
    checkers: [],
    disableTypeChecks: "{policies,validator}/**/*.ts",
    incremental: true,
    incrementalFile: `reports/stryker-incremental-${RUN}.json`,
    reporters: ["clear-text", "progress", "html", "json"],
    htmlReporter: { fileName: `reports/mutation/${RUN}/mutation.html` },
    jsonReporter: { fileName: `reports/mutation/${RUN}/mutation.json` },
    // The machine is shared: generous timeouts for a loaded CPU; scripts/mutation.js sets the
    // number of runners (--concurrency) and their priority.
    concurrency: 1,
    timeoutMS: 30000,
    timeoutFactor: 3,
    tempDirName: `.stryker-tmp/${RUN}`,
    // Another run's sandbox is not part of the project.
    ignorePatterns: [".stryker-tmp"],
    cleanTempDir: "always",
    thresholds: { high: 90, low: 85, break: null },
};
