// Preload for running the project's TypeScript: `node -r ./cli/register.js some/file.ts`.
// See typescript-cache.js.
"use strict";
const { register } = require("./typescript-cache");
register();
