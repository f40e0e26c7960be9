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
