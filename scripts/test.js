#!/usr/bin/env node
// `npm test`: the type checks (`npm run typecheck`) and the mocha suite side by side. The suite
// spends much of its wall time waiting (held WebSockets, watch windows, a 40 s hold), which the
// type checks fill; one after the other they took 15 s more. Both must pass: the exit code is
// mocha's when it failed, else the type checks'. tsc's output is printed after mocha's, so the
// two never interleave. Arguments go to mocha (`npm test -- --grep affinity`);
// `--typecheck-only` runs the type checks alone (`npm run typecheck`).
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const TSC = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
const MOCHA = require.resolve("mocha/bin/mocha.js", { paths: [ROOT] });
const BUILD_INFO = path.join(ROOT, "node_modules", ".cache", "websocket-lb", "tsc");

/** Runs a command to its end; its output is kept unless `inherit`. */
function run(args, inherit) {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, args, { cwd: ROOT, stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"] });
        let output = "";
        if (!inherit) {
            child.stdout.on("data", (c) => (output += c));
            child.stderr.on("data", (c) => (output += c));
        }
        child.on("error", (e) => resolve({ code: 1, output: `${output}${e.message}\n` }));
        child.on("close", (code, signal) => resolve({ code: code ?? 1, output: signal ? `${output}(ended by ${signal})\n` : output }));
    });
}

/** `npm run typecheck`'s two checks, in turn (they would only compete with each other). */
async function typecheck() {
    const results = [];
    for (const [project, info] of [
        [".", "root.tsbuildinfo"],
        ["policies", "policies.tsbuildinfo"],
    ]) {
        const result = await run([TSC, "--noEmit", "--incremental", "--tsBuildInfoFile", path.join(BUILD_INFO, info), "-p", project], false);
        results.push({ project, ...result });
    }
    return results;
}

async function main() {
    const checking = typecheck();
    const only = process.argv[2] === "--typecheck-only";
    const mocha = only ? { code: 0 } : await run([MOCHA, ...process.argv.slice(2)], true);
    const checks = await checking;
    for (const { project, code, output } of checks) {
        const what = project === "." ? "the program, tests and tools" : "the policy pack";
        process.stdout.write(code === 0 ? `type check of ${what} (tsc -p ${project}): no errors\n` : `type check of ${what} (tsc -p ${project}) FAILED:\n${output}`);
    }
    const failedCheck = checks.find((c) => c.code !== 0);
    process.exitCode = mocha.code !== 0 ? mocha.code : failedCheck ? failedCheck.code : 0;
}

main();
