import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/cli";

// ARCHITECTURE.md's "Inside each part" names every source file, so a reader can find any file's
// purpose there. A bullet `**validator/**` names files relative to its part; a nested bullet that
// opens with a folder (`core/`) names files relative to that folder, until a line goes back to the
// part's indentation; a full path is read as it is.

const PARTS = ["index.ts", "infra", "policies", "preview", "deploy", "validator", "load", "cli", "tools", "scripts"];
const SKIPPED = new Set(["node_modules", "bin"]);

function sourceFiles(rel: string): string[] {
    const full = path.join(ROOT, rel);
    if (fs.statSync(full).isFile()) {
        return [rel];
    }
    return fs.readdirSync(full, { withFileTypes: true }).flatMap((entry) => {
        const child = `${rel}/${entry.name}`;
        if (entry.isDirectory()) {
            // policies/bin is the pack's build; validator/bin holds the command's launcher.
            return SKIPPED.has(entry.name) && child !== "validator/bin" ? [] : sourceFiles(child);
        }
        return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".test.ts") ? [child] : [];
    });
}

function insideEachPart(): string {
    const text = fs.readFileSync(path.join(ROOT, "ARCHITECTURE.md"), "utf8");
    const start = text.indexOf("## Inside each part");
    assert.ok(start >= 0, "ARCHITECTURE.md has no section 'Inside each part'");
    const end = text.indexOf("\n## ", start + 1);
    return text.slice(start, end < 0 ? undefined : end);
}

/** Every file the section names, as a path from the project's root. */
function listedFiles(section: string): Set<string> {
    const listed = new Set<string>();
    let part = "";
    let folder = "";
    for (const line of section.split("\n")) {
        const top = /^- \*\*([^*]+)\*\*/.exec(line);
        if (top) {
            part = top[1].endsWith("/") ? top[1] : "";
            folder = "";
        } else if (/^\S/.test(line)) {
            part = "";
            folder = "";
        } else if (/^ {2}- /.test(line)) {
            folder = /^ {2}- `([^`]+\/)`/.exec(line)?.[1] ?? "";
        } else if (/^ {2}\S/.test(line)) {
            // Back at the part's own indentation: the nested bullets have ended.
            folder = "";
        }
        for (const [, token] of line.matchAll(/`([^`\s]+\.(?:ts|js))`/g)) {
            const nested = `${part}${folder}${token}`;
            const fullPath = PARTS.some((p) => token === p || token.startsWith(`${p}/`));
            listed.add(!part || (fullPath && !fs.existsSync(path.join(ROOT, nested))) ? token : nested);
        }
    }
    return listed;
}

describe("architecture: ARCHITECTURE.md lists every source file", () => {
    const listed = listedFiles(insideEachPart());
    const files = PARTS.flatMap(sourceFiles);

    it("finds the project's source files", () => {
        assert.ok(files.includes("validator/run.ts") && files.includes("index.ts"), files.join(", "));
    });

    it("names every source file in 'Inside each part'", () => {
        assert.deepEqual(
            files.filter((f) => !listed.has(f)),
            [],
            "add each file, with what it is for, to ARCHITECTURE.md's 'Inside each part'",
        );
    });

    it("names no file that does not exist", () => {
        assert.deepEqual(
            [...listed].filter((f) => !fs.existsSync(path.join(ROOT, f))),
            [],
            "ARCHITECTURE.md's 'Inside each part' names a file that is gone",
        );
    });
});
