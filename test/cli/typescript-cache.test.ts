import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { EMIT_OPTIONS, importsOf, transpile } from "../../cli/typescript-cache";
import { REGISTER, ROOT } from "../helpers/cli";

describe("cli: the cached TypeScript loader", function () {
    this.timeout(60_000);

    it("emits with tsconfig.json's own emit options", () => {
        const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")) as {
            compilerOptions: Record<string, unknown>;
        };
        for (const [option, value] of Object.entries(EMIT_OPTIONS)) {
            assert.equal(
                String(compilerOptions[option]).toLowerCase(),
                String(value).toLowerCase(),
                `tsconfig.json ${option}`,
            );
        }
    });

    it("gives what TypeScript's own transpileModule gives, and the same again from the cache", () => {
        const file = path.join(ROOT, "cli", "kit.ts");
        const source = fs.readFileSync(file, "utf8");
        const expected = ts.transpileModule(source, {
            compilerOptions: {
                target: ts.ScriptTarget.ES2022,
                module: ts.ModuleKind.CommonJS,
                esModuleInterop: true,
                strict: true,
            },
            fileName: file,
        }).outputText;
        const first = transpile(source, file);
        assert.equal(first.code, expected);
        assert.deepEqual(transpile(source, file), first);
        assert.equal(JSON.parse(first.map).version, 3, "a source map comes with it");
        // Another text is another entry, never the cached one.
        assert.match(transpile(`${source}\nexport const addedForTheTest = 1;\n`, file).code, /addedForTheTest = 1/);
    });

    it("stops at a syntax error, naming the file, line and column, and keeps nothing of it", () => {
        const broken = "const fine: number = 1;\nconst broken = ;\n";
        for (let attempt = 0; attempt < 2; attempt++) {
            assert.throws(
                () => transpile(broken, "/project/broken.ts"),
                (e: Error) => e instanceof SyntaxError && e.message === "/project/broken.ts:2:16: Expression expected.",
            );
        }
    });

    it("lists imports as TypeScript's preProcessFile does", () => {
        const file = path.join(ROOT, "preview", "preview.ts");
        const source = fs.readFileSync(file, "utf8");
        const expected = ts.preProcessFile(source, true, false).importedFiles.map((f) => f.fileName);
        assert.ok(expected.length > 3);
        assert.deepEqual(importsOf(source, file), expected);
        assert.deepEqual(importsOf(source, file), expected);
    });

    it("runs a TypeScript file and maps its stack trace to the TypeScript line", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-cache-"));
        try {
            const file = path.join(dir, "thrower.ts");
            // The interface is gone from the JavaScript, so its lines differ from the TypeScript's.
            fs.writeFileSync(
                file,
                [
                    "interface Shape {",
                    "    readonly a: number;",
                    "    readonly b: number;",
                    "}",
                    "const shape: Shape = { a: 1, b: 2 };",
                    "console.log(shape.a + shape.b);",
                    'throw new Error("from line 7");',
                    "",
                ].join("\n"),
            );
            const run = spawnSync(process.execPath, ["-r", REGISTER, file], { encoding: "utf8" });
            assert.equal(run.stdout.trim(), "3");
            assert.notEqual(run.status, 0);
            assert.match(run.stderr, /thrower\.ts:7:7/, run.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
