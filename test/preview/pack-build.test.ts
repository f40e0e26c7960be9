import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildPackIfStale, PackBuildError } from "../../preview/pack-build";
import { ROOT } from "../helpers/cli";

/** A tiny compiled pack (TypeScript reached through a linked node_modules), to test the rule cheaply. */
function tinyPack(source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiny-pack-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "tiny", main: "bin/index.js" }));
    fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                strict: true,
                module: "commonjs",
                target: "ES2022",
                lib: ["es5"],
                types: [],
                outDir: "bin",
            },
            include: ["index.ts"],
        }),
    );
    fs.writeFileSync(path.join(dir, "index.ts"), source);
    return dir;
}

function age(file: string, secondsAgo: number): void {
    const when = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(file, when, when);
}

describe("preview: a compiled pack is rebuilt when its sources are newer than its build", function () {
    this.timeout(60_000);

    it("builds a missing build, leaves a fresh one alone, and rebuilds after a source changes", () => {
        const dir = tinyPack('export const level: string = "mandatory";\n');
        const main = path.join(dir, "bin", "index.js");
        assert.equal(buildPackIfStale(dir), true, "no build yet");
        assert.match(fs.readFileSync(main, "utf8"), /"mandatory"/);
        age(path.join(dir, "index.ts"), 60);
        assert.equal(buildPackIfStale(dir), false, "fresh build");

        fs.writeFileSync(path.join(dir, "index.ts"), 'export const level: string = "advisory";\n');
        age(main, 60);
        assert.equal(buildPackIfStale(dir), true, "source newer than the build");
        assert.match(fs.readFileSync(main, "utf8"), /"advisory"/);
    });

    it("refuses with tsc's error when the changed sources do not type-check", () => {
        const dir = tinyPack('export const level: number = "oops";\n');
        assert.throws(
            () => buildPackIfStale(dir),
            (e: unknown) =>
                e instanceof PackBuildError &&
                /rebuilding it with tsc failed/.test(e.message) &&
                /index\.ts.*error TS2322/.test(e.message),
        );
        assert.equal(
            fs.existsSync(path.join(dir, "bin", "index.js")),
            true,
            "tsc emits despite errors, but the preview refuses",
        );
    });

    it("leaves a pack whose main is TypeScript to ts-node", () => {
        const dir = tinyPack("export {};\n");
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "tiny", main: "index.ts" }));
        assert.equal(buildPackIfStale(dir), false);
        assert.equal(fs.existsSync(path.join(dir, "bin")), false);
    });

    it("the project's pack ships compiled: main is its build, and npm ci built it", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8")) as {
            main: string;
        };
        assert.equal(manifest.main, "bin/index.js");
        assert.match(fs.readFileSync(path.join(ROOT, "policies", "PulumiPolicy.yaml"), "utf8"), /typescript: false/);
        assert.equal(fs.existsSync(path.join(ROOT, "policies", manifest.main)), true);
    });
});
