// Loads the component the way the project runs its TypeScript (cli/register.js: transpiled, cached,
// no type check, `npm test` does that) instead of through the type-checking ts-node that
// @pulumi/pulumi's run-plugin registers, which would type-check the component and the gcp SDK's
// declarations at every start of the provider.
"use strict";
require("../cli/register.js");
module.exports = require("./index.ts");
