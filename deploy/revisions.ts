import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { errorText } from "../cli/kit";
import { buildPackIfStale } from "../preview";

// The program's revisions as git knows them: what a deploy records as good, and how a rollback
// gets that revision back without touching the user's checkout (a temporary `git worktree`).

function git(cwd: string, args: string[]): string {
    try {
        // Only the final newline goes: porcelain status lines start with a meaningful space.
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).replace(
            /\n+$/,
            "",
        );
    } catch (e) {
        const stderr = (e as { stderr?: string }).stderr?.toString().trim();
        throw new Error(`git ${args.join(" ")} in ${cwd} failed: ${stderr || errorText(e)}`, { cause: e });
    }
}

export interface SourceRevision {
    /** The repository's top level. */
    readonly repoDir: string;
    /** The project's folder relative to it ("" when the project is the repository). */
    readonly projectPath: string;
    /** The full commit hash HEAD points at. */
    readonly commit: string;
    /** Uncommitted changes to tracked files, or untracked files, that a rollback could not restore. */
    readonly dirty: readonly string[];
}

/** Where `dir` sits in git, or undefined when it is not in a repository (or git is missing). */
export function sourceRevision(dir: string): SourceRevision | undefined {
    let repoDir: string;
    try {
        repoDir = git(dir, ["rev-parse", "--show-toplevel"]);
    } catch {
        return undefined;
    }
    const commit = git(dir, ["rev-parse", "HEAD"]);
    const dirty = git(dir, ["status", "--porcelain", "--untracked-files=normal", "--", "."])
        .split("\n")
        .filter(Boolean);
    return { repoDir, projectPath: path.relative(repoDir, fs.realpathSync(dir)), commit, dirty };
}

/** True when `commit` names a commit in the repository. */
function hasCommit(repoDir: string, commit: string): boolean {
    try {
        git(repoDir, ["cat-file", "-e", `${commit}^{commit}`]);
        return true;
    } catch {
        return false;
    }
}

const WORKTREE_PREFIX = "deploy-rollback-";
const LOCK_REASON = "websocket-lb deploy, process";

/** Removes a worktree of ours (twice --force: it is locked) and its temporary folder. */
function removeWorktree(repoDir: string, worktree: string): void {
    try {
        git(repoDir, ["worktree", "remove", "--force", "--force", worktree]);
    } finally {
        fs.rmSync(path.dirname(worktree), { recursive: true, force: true });
        git(repoDir, ["worktree", "prune"]);
    }
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        // EPERM: it exists, under another user.
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * The temporary worktrees a killed deploy left registered: ours (locked with our reason) whose
 * process is gone. A deploy still running keeps its own.
 */
export function pruneAbandonedWorktrees(repoDir: string): string[] {
    git(repoDir, ["worktree", "prune"]);
    const removed: string[] = [];
    for (const block of git(repoDir, ["worktree", "list", "--porcelain"]).split("\n\n")) {
        const worktree = /^worktree (.+)$/m.exec(block)?.[1];
        const pid = new RegExp(`^locked ${LOCK_REASON} (\\d+)$`, "m").exec(block)?.[1];
        if (worktree && pid && path.basename(path.dirname(worktree)).startsWith(WORKTREE_PREFIX)) {
            if (!processAlive(Number(pid))) {
                removeWorktree(repoDir, worktree);
                removed.push(worktree);
            }
        }
    }
    return removed;
}

/**
 * Checks `commit` out into a temporary worktree, runs `use` in the project's folder there, and
 * removes the worktree whatever happens. The user's checkout, index and branch are not touched:
 * the worktree is detached. `node_modules` is linked from the checkout when the worktree has
 * none, because a TypeScript program cannot run without its dependencies; a commit whose
 * dependencies differ needs `npm ci` in the worktree instead (the link is the fast path).
 */
export async function withWorktree<T>(
    revision: Pick<SourceRevision, "repoDir" | "projectPath">,
    commit: string,
    use: (projectDir: string) => Promise<T>,
    options: {
        /**
         * The policy pack's folder in the project: compiled in the worktree before `use`, as
         * `npm ci` compiles it in a checkout, so the pack runs as it does there (its build is
         * not in git).
         */
        readonly packPath?: string;
    } = {},
): Promise<T> {
    if (!/^[0-9a-f]{7,40}$/.test(commit)) {
        throw new Error(`recorded commit ${JSON.stringify(commit)}: expected a git commit hash (7 to 40 hex digits)`);
    }
    if (!hasCommit(revision.repoDir, commit)) {
        throw new Error(
            `recorded commit ${commit} is not in the repository at ${revision.repoDir}; fetch it, or roll back by hand`,
        );
    }
    pruneAbandonedWorktrees(revision.repoDir);
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), WORKTREE_PREFIX));
    const worktree = path.join(parent, "checkout");
    // Locked with this process's id: a deploy killed with kill -9 leaves it registered, and the
    // next deploy (pruneAbandonedWorktrees) removes it once that process is gone.
    git(revision.repoDir, [
        "worktree",
        "add",
        "--detach",
        "--quiet",
        "--lock",
        "--reason",
        `${LOCK_REASON} ${process.pid}`,
        worktree,
        commit,
    ]);
    try {
        const projectDir = path.join(worktree, revision.projectPath);
        const modules = path.join(revision.repoDir, revision.projectPath, "node_modules");
        if (fs.existsSync(modules) && !fs.existsSync(path.join(projectDir, "node_modules"))) {
            fs.symlinkSync(modules, path.join(projectDir, "node_modules"), "dir");
        }
        if (options.packPath !== undefined) {
            try {
                buildPackIfStale(path.join(projectDir, options.packPath));
            } catch (e) {
                throw new Error(`the policy pack of commit ${commit.slice(0, 12)}: ${errorText(e)}`, { cause: e });
            }
        }
        return await use(projectDir);
    } finally {
        removeWorktree(revision.repoDir, worktree);
    }
}

/** The commands a person runs to do what `withWorktree` + up does, for the report. */
export function worktreeRollbackCommands(stack: string, commit: string, projectPath: string): string[] {
    const dir = `/tmp/rollback-${commit.slice(0, 12)}`;
    return [
        `git worktree add --detach ${dir} ${commit}`,
        `cd ${path.posix.join(dir, projectPath || ".")} && npm ci && pulumi up --stack ${stack} --policy-pack policies`,
        `git worktree remove --force ${dir}`,
    ];
}
