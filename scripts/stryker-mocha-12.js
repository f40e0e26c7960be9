// Preload for `npm run mutation`. Stryker's mocha runner (10.0.0) requires mocha's CLI helpers by
// their old names (mocha/lib/cli/run-helpers); mocha 12 ships them as .cjs. Letting require()
// try .cjs like .js resolves those names to the files mocha 12 has, without touching node_modules.
"use strict";
const Module = require("module");
if (!Module._extensions[".cjs"]) {
    Module._extensions[".cjs"] = Module._extensions[".js"];
}
