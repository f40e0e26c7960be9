#!/usr/bin/env node
// The ws-validate command: runs validator/cli.ts through ts-node (type-checked by npm test).
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "..", "tsconfig.json") });
require("../cli.ts").runCli();
