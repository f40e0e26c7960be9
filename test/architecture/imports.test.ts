import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/cli";

// The import rules ARCHITECTURE.md states, checked against the code: a part may import only the
// parts listed for it (and packages). A new arrow either belongs in the table or is a mistake.
const MAY_IMPORT: Record<string, readonly string[]> = {
    "index.ts": ["infra"],
    component: ["infra"],
    infra: ["policies/facts.ts", "cli/suggest.ts", "cli/typescript-cache.js"],
    policies: [],
    cli: [],
    preview: ["cli", "infra/settings.ts"],
    validator: ["cli"],
    deploy: ["cli", "preview", "validator", "infra/settings.ts"],
    load: ["cli", "validator"],
};

function partOf(file: string): string {
    const rel = path.relative(ROOT, file).split(path.sep).join("/");
    return rel.includes("/") ? rel.split("/")[0] : rel;
}

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            return entry.name === "node_modules" ? [] : sourceFiles(full);
        }
        return entry.name.endsWith(".ts") ? [full] : [];
    });
}

/** Relative imports of a file, resolved to project paths such as "policies/facts.ts" or "cli/kit.ts". */
function relativeImports(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/(?:from|import|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
    return specifiers.map((s) => {
        const base = path.resolve(path.dirname(file), s);
        const candidates = [`${base}.ts`, `${base}.js`, path.join(base, "index.ts"), base];
        const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? base;
        return path.relative(ROOT, found).split(path.sep).join("/");
    });
}

describe("architecture: each part imports only what ARCHITECTURE.md allows", () => {
    for (const [part, allowed] of Object.entries(MAY_IMPORT)) {
        it(`${part} imports ${allowed.length ? allowed.join(", ") : "no other part"}`, () => {
            const files = part.endsWith(".ts") ? [path.join(ROOT, part)] : sourceFiles(path.join(ROOT, part));
            assert.ok(files.length > 0, `no sources under ${part}`);
            const offending: string[] = [];
            for (const file of files) {
                for (const target of relativeImports(file)) {
                    const targetPart = partOf(path.join(ROOT, target));
                    const ok =
                        targetPart === part ||
                        allowed.some((a) => target === a || (!a.endsWith(".ts") && targetPart === a));
                    if (!ok) {
                        offending.push(`${path.relative(ROOT, file)} -> ${target}`);
                    }
                }
            }
            assert.deepEqual(offending, []);
        });
    }

    it("keeps the policy pack publishable on its own: nothing in policies/ reaches outside it", () => {
        const outside = sourceFiles(path.join(ROOT, "policies")).flatMap((file) =>
            relativeImports(file).filter((t) => !t.startsWith("policies/")),
        );
        assert.deepEqual(outside, []);
    });
});

// The validator's three rooms, lowest first: a room may import the rooms below it, never above, and
// only through their public face (index.ts). The validator's top level (run, cli, index, the
// synthetic monitor's entry) composes all three, also through the faces. A deferred `import()`
// may name a room's module directly, so a command loads only what it uses; a static import may not.
const ROOMS = ["core", "scenario", "report"] as const;

function roomOf(rel: string): string | undefined {
    const m = /^validator\/([a-z-]+)\//.exec(rel);
    return m && (ROOMS as readonly string[]).includes(m[1]) ? m[1] : undefined;
}

function staticImports(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/(?:from|^import|require\()\s*["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]);
    return specifiers.map((s) => {
        const base = path.resolve(path.dirname(file), s);
        const candidates = [`${base}.ts`, `${base}.js`, path.join(base, "index.ts"), base];
        const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? base;
        return path.relative(ROOT, found).split(path.sep).join("/");
    });
}

describe("architecture: the validator's rooms and their faces", () => {
    const files = sourceFiles(path.join(ROOT, "validator")).map((f) =>
        path.relative(ROOT, f).split(path.sep).join("/"),
    );

    it("has the three rooms, each with a face", () => {
        for (const room of ROOMS) {
            assert.ok(
                fs.existsSync(path.join(ROOT, "validator", room, "index.ts")),
                `validator/${room}/index.ts is missing`,
            );
        }
    });

    it("imports a room from outside it only through its face, and never a room above", () => {
        const offending: string[] = [];
        for (const file of files) {
            const from = roomOf(file);
            for (const target of staticImports(path.join(ROOT, file))) {
                const to = roomOf(target);
                if (!target.startsWith("validator/") || to === undefined || to === from) {
                    if (from !== undefined && target.startsWith("validator/") && to === undefined) {
                        offending.push(`${file} -> ${target} (a room imports the validator's top level)`);
                    }
                    continue;
                }
                if (target !== `validator/${to}/index.ts`) {
                    offending.push(`${file} -> ${target} (not through validator/${to}/index.ts)`);
                }
                if (
                    from !== undefined &&
                    ROOMS.indexOf(to as (typeof ROOMS)[number]) > ROOMS.indexOf(from as (typeof ROOMS)[number])
                ) {
                    offending.push(`${file} -> ${target} (${from} is below ${to})`);
                }
            }
        }
        assert.deepEqual(offending, []);
    });

    it("finds what it checks: a static import of a room's inner module from outside it is caught", () => {
        assert.deepEqual(
            staticImports(path.join(ROOT, "validator", "run.ts")).filter(
                (t) => roomOf(t) !== undefined && !t.endsWith("/index.ts"),
            ),
            [],
        );
        assert.ok(staticImports(path.join(ROOT, "validator", "run.ts")).includes("validator/core/index.ts"));
    });
});
