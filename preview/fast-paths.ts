// The preview's fast paths into other libraries' internals, each switchable off so it can be
// measured against the library's public path and so a test can hold the two to the same answers.
// WEBSOCKET_LB_NO_FAST_PATH: "all", or a comma-separated list of FAST_PATHS names. The pack's own
// (deserialize-once, in policies/lib/) reads the same variable, which the pack's process inherits,
// and its notice reaches the preview's through the pack's stderr (analyzer.ts). Each one has to
// buy at least 15 % on a benchmark that matters to stay (docs/benchmarks.md).

export const FAST_PATHS = ["lean-runtime", "wire", "deserialize-once"] as const;
export type FastPath = (typeof FAST_PATHS)[number];

export const NO_FAST_PATH_ENV = "WEBSOCKET_LB_NO_FAST_PATH";

export function isFastPath(name: string): name is FastPath {
    return (FAST_PATHS as readonly string[]).includes(name);
}

/** Whether a fast path is on (it is unless the environment switches it off). */
export function fastPathOn(name: FastPath, env: NodeJS.ProcessEnv = process.env): boolean {
    const off = (env[NO_FAST_PATH_ENV] ?? "").split(",").map((s) => s.trim());
    return !off.includes("all") && !off.includes(name);
}

const notices = new Set<string>();

/** Records, once, that a fast path found the library's internals changed and took the public path. */
export function fastPathUnavailable(name: FastPath, why: string): void {
    notices.add(`fast path ${name} is off: ${why}`);
}

/** The notices of fast paths that fell back, for the preview's notices. */
export function fastPathNotices(): string[] {
    return [...notices];
}
