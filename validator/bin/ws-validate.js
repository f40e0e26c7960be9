#!/usr/bin/env node
// The ws-validate command: runs validator/cli.ts through the project's cached TypeScript loader
// (cli/typescript-cache.js; npm test type-checks the sources).
require("../../cli/register");
require("../cli.ts").runCli();
