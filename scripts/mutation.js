#!/usr/bin/env node
// `npm run mutation`: StrykerJS on the verdict logic (stryker.config.mjs), at low priority, with
// the preload that lets its mocha runner load mocha 12 (scripts/stryker-mocha-12.js) in Stryker's
// own process and in every test runner it starts. Arguments go to `stryker run`
// (`npm run mutation -- --mutate policies/lib/urlmaps.ts`).
"use strict";
const { spawn } = require("child_process");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const STRYKER = path.join(
    path.dirname(require.resolve("@stryker-mutator/core/package.json", { paths: [ROOT] })),
    "bin",
    "stryker.js",
);
const preload = `--require ${JSON.stringify(path.join(__dirname, "stryker-mocha-12.js"))}`;
const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(" ") };
const child = spawn(process.execPath, [STRYKER, "run", "stryker.config.mjs", ...process.argv.slice(2)], {
    cwd: ROOT,
    env,
    stdio: "inherit",
});
try {
    os.setPriority(child.pid, 10);
} catch {
    // Not allowed here: it runs at normal priority.
}
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
