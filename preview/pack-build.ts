import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Why a pack's compiled JavaScript could not be brought up to date. */
export class PackBuildError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PackBuildError";
    }
}

/** Newest modification time of the pack's TypeScript sources and its tsconfig.json. */
function newestSource(dir: string, outDir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            if (entry.name !== "node_modules" && full !== outDir) {
                newest = Math.max(newest, newestSource(full, outDir));
            }
        } else if ((entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) || entry.name === "tsconfig.json") {
            newest = Math.max(newest, fs.statSync(full).mtimeMs);
        }
    }
    return newest;
}

/**
 * A pack whose package.json `main` is compiled JavaScript from its own TypeScript (it has a
 * tsconfig.json) is rebuilt when any source is newer than that main file or the file is missing,
 * so a stale build never judges a stack. The build is the pack's own type-checked `tsc -p`, so a
 * type error stops the preview with tsc's words. Returns whether it rebuilt.
 */
export function buildPackIfStale(packDir: string): boolean {
    let main: unknown;
    try {
        main = (JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as { main?: unknown }).main;
    } catch {
        return false;
    }
    if (typeof main !== "string" || !main.endsWith(".js") || !fs.existsSync(path.join(packDir, "tsconfig.json"))) {
        return false;
    }
    const mainFile = path.resolve(packDir, main);
    // The compiled tree mirrors the sources, so main's folder is the build output.
    const outDir = path.dirname(mainFile);
    const builtAt = fs.existsSync(mainFile) ? fs.statSync(mainFile).mtimeMs : -1;
    if (builtAt >= newestSource(packDir, outDir)) {
        return false;
    }
    let tsc: string;
    try {
        tsc = require.resolve("typescript/bin/tsc", { paths: [packDir] });
    } catch {
        throw new PackBuildError(
            `its build (${main}) is missing or older than its sources, and TypeScript cannot be found from there to rebuild it; run npm ci`,
        );
    }
    const built = spawnSync(process.execPath, [tsc, "-p", packDir], { cwd: packDir, encoding: "utf8" });
    if (built.status !== 0) {
        const detail = `${built.stdout}${built.stderr}`.trim().split("\n").filter(Boolean).slice(0, 12).join("\n    ");
        throw new PackBuildError(
            `its build (${main}) was older than its sources and rebuilding it with tsc failed${detail ? `:\n    ${detail}` : ""}`,
        );
    }
    if (!fs.existsSync(mainFile)) {
        throw new PackBuildError(
            `rebuilding it with tsc did not write its main file ${main}; check outDir in its tsconfig.json`,
        );
    }
    return true;
}
