#!/usr/bin/env node
// `npm run mutation`: StrykerJS on the verdict logic (stryker.config.mjs), at low priority, with
// the preload that lets its mocha runner load mocha 12 (scripts/stryker-mocha-12.js) in Stryker's
// own process and in every test runner it starts. It runs the runtime pass and the static pass
// (stryker.config.mjs says why there are two) of the pack, then of the validator, and prints the
// scores of the passes added up, per area and per file. Arguments go to each `stryker run` (`npm
// run mutation -- --mutate policies/lib/urlmaps.ts` runs only the passes of that file's area),
// except `--pass pack|validator|static-pack|static-validator` (that run only) and `--summary`
// (no run, only the scores of the last reports).
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const reportOf = (run) => path.join(ROOT, "reports", "mutation", run, "mutation.json");
const AREAS = [
    ["pack", "policies/"],
    ["validator", "validator/"],
];
const RUNS = ["pack", "static-pack", "validator", "static-validator"];

function strykerRun(run, args) {
    const stryker = path.join(
        path.dirname(require.resolve("@stryker-mutator/core/package.json", { paths: [ROOT] })),
        "bin",
        "stryker.js",
    );
    const preload = `--require ${JSON.stringify(path.join(__dirname, "stryker-mocha-12.js"))}`;
    const env = {
        ...process.env,
        MUTATION_PASS: run.startsWith("static-") ? "static" : "runtime",
        MUTATION_AREA: run.replace(/^static-/, ""),
        NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(" "),
    };
    const child = spawn(process.execPath, [stryker, "run", "stryker.config.mjs", ...args], {
        cwd: ROOT,
        env,
        stdio: "inherit",
    });
    try {
        os.setPriority(child.pid, 10);
    } catch {
        // Not allowed here: it runs at normal priority.
    }
    return new Promise((resolve) => child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1))));
}

/** A run's results for the files of its own area (a report keeps what older runs left too). */
function readReport(run) {
    const prefix = run.endsWith("pack") ? "policies/" : "validator/";
    try {
        const { files } = JSON.parse(fs.readFileSync(reportOf(run), "utf8"));
        return Object.fromEntries(Object.entries(files).filter(([file]) => file.startsWith(prefix)));
    } catch {
        return {};
    }
}

/** A glob of the config's `mutate` (`**`, `*`, an optional `:from-to` line range) as a test. */
function matcherOf(glob) {
    const [, pattern, from, to] = /^(.*?)(?::(\d+)-(\d+))?$/.exec(glob);
    const re = new RegExp(
        `^${pattern
            .split("**/")
            .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
            .join("(?:.*/)?")}$`,
    );
    return (file, line) => re.test(file) && (from === undefined || (line >= Number(from) && line <= Number(to)));
}

/**
 * Whether a mutant is in the configured set: a report also keeps the results of files a smaller
 * run (`--mutate`) or an older config mutated.
 */
async function configuredSet() {
    delete process.env.MUTATION_AREA;
    const { default: config } = await import(path.join(ROOT, "stryker.config.mjs"));
    const take = config.mutate.filter((g) => !g.startsWith("!")).map(matcherOf);
    const drop = config.mutate.filter((g) => g.startsWith("!")).map((g) => matcherOf(g.slice(1)));
    return (file, line) => take.some((m) => m(file, line)) && !drop.some((m) => m(file, line));
}

const keyOf = (file, m) =>
    `${file}:${m.location.start.line}:${m.location.start.column}:${m.mutatorName}:${m.replacement ?? ""}`;

/**
 * Each mutant's status once: the runtime pass's, or for a static mutant (ignored there) the
 * static pass's. Per file: killed (timeouts count as killed, as Stryker counts them), survived,
 * no coverage, and static mutants neither pass judged.
 */
function tally(inSet) {
    const runtime = { ...readReport("pack"), ...readReport("validator") };
    const judgedStatic = new Map();
    const statics = { ...readReport("static-pack"), ...readReport("static-validator") };
    for (const [file, { mutants }] of Object.entries(statics)) {
        for (const m of mutants) {
            if (m.status !== "Ignored") {
                judgedStatic.set(keyOf(file, m), m.status);
            }
        }
    }
    const files = new Map();
    for (const [file, { mutants }] of Object.entries(runtime)) {
        const counts = { killed: 0, survived: 0, noCoverage: 0, unjudged: 0 };
        for (const m of mutants.filter((m) => inSet(file, m.location.start.line))) {
            // A static mutant the runtime pass ran anyway (also covered by a test, "hybrid") was
            // run with the module already loaded without it: the static pass's verdict counts.
            // A result reused by an incremental run loses its `static` flag, so a mutant the static
            // pass judged (module-level code only) counts as static too.
            const ignored = m.status === "Ignored" && /static/i.test(m.statusReason ?? "");
            const status =
                ignored || m.static || judgedStatic.has(keyOf(file, m))
                    ? (judgedStatic.get(keyOf(file, m)) ?? (ignored ? "Unjudged" : m.status))
                    : m.status;
            if (status === "Killed" || status === "Timeout") {
                counts.killed += 1;
            } else if (status === "Survived") {
                counts.survived += 1;
            } else if (status === "NoCoverage") {
                counts.noCoverage += 1;
            } else if (status === "Unjudged") {
                counts.unjudged += 1;
            }
        }
        if (counts.killed + counts.survived + counts.noCoverage + counts.unjudged > 0) {
            files.set(file, counts);
        }
    }
    return files;
}

function row(name, c) {
    const judged = c.killed + c.survived + c.noCoverage;
    const score = judged === 0 ? "-" : `${((100 * c.killed) / judged).toFixed(1)} %`;
    return `| ${name} | ${c.killed} | ${c.survived} | ${c.noCoverage} | ${score} |${c.unjudged ? ` ${c.unjudged} static not judged` : ""}`;
}

async function printSummary() {
    const files = tally(await configuredSet());
    if (files.size === 0) {
        process.stdout.write("no report under reports/mutation: run npm run mutation first\n");
        return;
    }
    const lines = ["| area / file | killed | survived | no coverage | score |", "| --- | --- | --- | --- | --- |"];
    for (const [area, prefix] of AREAS) {
        const inArea = [...files].filter(([file]) => file.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b));
        const sum = { killed: 0, survived: 0, noCoverage: 0, unjudged: 0 };
        for (const [, c] of inArea) {
            for (const k of Object.keys(sum)) {
                sum[k] += c[k];
            }
        }
        lines.push(row(`**${area}**`, sum), ...inArea.map(([file, c]) => row(`\`${file}\``, c)));
    }
    process.stdout.write(`\nmutation score, runtime and static passes:\n${lines.join("\n")}\n`);
}

async function main() {
    const args = process.argv.slice(2);
    if (args.includes("--summary")) {
        await printSummary();
        return 0;
    }
    const passAt = args.indexOf("--pass");
    if (passAt >= 0 && !RUNS.includes(args[passAt + 1])) {
        process.stderr.write(`--pass: got ${JSON.stringify(args[passAt + 1])}; allowed: ${RUNS.join(", ")}\n`);
        return 2;
    }
    const strykerArgs = passAt >= 0 ? [...args.slice(0, passAt), ...args.slice(passAt + 2)] : args;
    // With --mutate, only the runs whose area holds the files.
    const mutateAt = strykerArgs.indexOf("--mutate");
    const files = mutateAt >= 0 ? (strykerArgs[mutateAt + 1] ?? "").split(",") : [];
    const runs = RUNS.filter(
        (run) =>
            (passAt < 0 || run === args[passAt + 1]) &&
            (files.length === 0 || files.some((f) => f.startsWith(run.endsWith("pack") ? "policies/" : "validator/"))),
    );
    for (const run of runs) {
        const code = await strykerRun(run, strykerArgs);
        if (code !== 0) {
            return code;
        }
    }
    await printSummary();
    return 0;
}

void main().then((code) => process.exit(code));
