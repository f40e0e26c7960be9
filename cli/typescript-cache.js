// Runs the project's TypeScript as ts-node --transpile-only does (no type check: `npm test` does
// that), but keeps each file's JavaScript on disk, keyed by its content, so a command that starts
// again loads no TypeScript compiler at all: loading and warming up the compiler was most of an
// offline preview's start. Also turns on Node's compile cache, for this process and its children
// (the policy pack among them), so V8 does not parse the same modules again at every start.
//
// Plain JavaScript: it is what makes TypeScript loadable, so it cannot be TypeScript itself.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
/** Under node_modules, so a fresh `npm ci` starts with an empty cache and git never sees it. */
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "websocket-lb");
const TS_DIR = path.join(CACHE_DIR, "typescript");
const COMPILE_CACHE_DIR = path.join(CACHE_DIR, "v8");
/** Bump when what this file writes changes shape. */
const FORMAT = "1";

/**
 * tsconfig.json's options that change the JavaScript a file becomes (the rest only steer the
 * type check). test/cli/typescript-cache.test.ts holds these to tsconfig.json.
 */
const EMIT_OPTIONS = Object.freeze({ target: "ES2022", module: "commonjs", esModuleInterop: true, strict: true });

let typescript;
/** The compiler, loaded on the first file the cache does not have. */
function compiler() {
    if (!typescript) {
        typescript = require("typescript");
    }
    return typescript;
}

let versionKey;
/** What besides a file's own text decides its JavaScript: this format, the options, the compiler's version. */
function cacheVersion() {
    if (versionKey === undefined) {
        const tsVersion = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")).version;
        versionKey = `${FORMAT}\0${tsVersion}\0${JSON.stringify(EMIT_OPTIONS)}`;
    }
    return versionKey;
}

function keyOf(kind, fileName, source) {
    return crypto.createHash("sha256").update(`${cacheVersion()}\0${kind}\0${fileName}\0${source}`).digest("hex");
}

/** Writes whole or not at all: a parallel test worker may read the same entry at any moment. */
function writeEntry(file, text) {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, file);
    } catch {
        // A read-only checkout still runs; it just compiles again next time.
    }
}

function readEntry(file) {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
}

function compilerOptions(ts) {
    return {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        esModuleInterop: true,
        strict: true,
        sourceMap: true,
    };
}

/** Source maps of the files this process loaded, by file name, for stack traces. */
const maps = new Map();

/**
 * The JavaScript of one TypeScript file, from the cache or compiled now (without type check).
 * `map` is its source map's JSON text.
 */
function transpile(source, fileName) {
    const key = keyOf("js", fileName, source);
    const jsFile = path.join(TS_DIR, key.slice(0, 2), `${key}.js`);
    const cached = readEntry(jsFile);
    const cachedMap = cached === undefined ? undefined : readEntry(`${jsFile}.map`);
    if (cached !== undefined && cachedMap !== undefined) {
        return { code: cached, map: cachedMap };
    }
    const ts = compiler();
    const output = ts.transpileModule(source, {
        compilerOptions: compilerOptions(ts),
        fileName,
        reportDiagnostics: true,
    });
    // transpileModule reports only syntax errors; as ts-node does, they stop the load, named by file and line.
    const errors = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
        const first = errors[0];
        const where =
            first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start) : undefined;
        const text = ts.flattenDiagnosticMessageText(first.messageText, "\n");
        throw new SyntaxError(
            `${fileName}${where ? `:${where.line + 1}:${where.character + 1}` : ""}: ${text}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`,
        );
    }
    // The trailing sourceMappingURL comment would name a file that does not exist; maps come from `maps`.
    const code = output.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
    writeEntry(`${jsFile}.map`, output.sourceMapText ?? "");
    writeEntry(jsFile, code);
    return { code, map: output.sourceMapText ?? "" };
}

/**
 * The modules a TypeScript file imports or re-exports, as written (type-only imports included),
 * the way TypeScript's own preProcessFile lists them; cached like transpile().
 */
function importsOf(source, fileName) {
    const key = keyOf("imports", fileName, source);
    const file = path.join(TS_DIR, key.slice(0, 2), `${key}.json`);
    const cached = readEntry(file);
    if (cached !== undefined) {
        try {
            return JSON.parse(cached);
        } catch {
            // A damaged entry is rebuilt below.
        }
    }
    const imports = compiler()
        .preProcessFile(source, true, false)
        .importedFiles.map((f) => f.fileName);
    writeEntry(file, JSON.stringify(imports));
    return imports;
}

let registered = false;

/** Loads `.ts` files through the cache, maps their stack traces back to TypeScript, turns on Node's compile cache. */
function register() {
    if (registered) {
        return;
    }
    registered = true;
    // The two parts of Node's module loader this relies on; were they to change, ts-node (a
    // well-kept loader, slower to start: docs/benchmarks.md) loads the TypeScript instead.
    if (typeof Module._extensions?.[".js"] !== "function" || typeof Module.prototype._compile !== "function") {
        process.stderr.write("note: Node's Module._extensions is not as expected; TypeScript is loaded by ts-node\n");
        require("ts-node").register({ transpileOnly: true });
        return;
    }
    // For benchmarks that compare against a start without it.
    const noCompileCache = process.env.WEBSOCKET_LB_NO_COMPILE_CACHE === "1";
    if (!process.env.NODE_COMPILE_CACHE && !noCompileCache) {
        // Children (the policy pack, test commands) inherit it; enableCompileCache covers this process.
        process.env.NODE_COMPILE_CACHE = COMPILE_CACHE_DIR;
    }
    if (typeof Module.enableCompileCache === "function" && !noCompileCache) {
        Module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
    }
    require("source-map-support").install({
        environment: "node",
        handleUncaughtExceptions: false,
        retrieveSourceMap(source) {
            const map = maps.get(source);
            return map ? { url: source, map } : null;
        },
    });
    Module._extensions[".ts"] = function loadTypeScript(module, fileName) {
        const { code, map } = transpile(fs.readFileSync(fileName, "utf8"), fileName);
        maps.set(fileName, map);
        module._compile(code, fileName);
    };
}

module.exports = { register, transpile, importsOf, EMIT_OPTIONS };
