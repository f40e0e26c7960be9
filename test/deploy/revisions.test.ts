import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { pruneAbandonedWorktrees, sourceRevision, withWorktree } from "../../deploy/revisions";
import { eventually, ROOT } from "../helpers/cli";
import { git, ProgramRepo, removeTemporaryDirs } from "./fixtures";

const REGISTER = path.join(ROOT, "cli", "register.js");

const worktrees = (dir: string) =>
    git(dir, "worktree", "list", "--porcelain")
        .split("\n")
        .filter((l) => l.startsWith("worktree "))
        .map((l) => l.slice("worktree ".length));

describe("deploy: temporary worktrees of a deploy killed with kill -9", function () {
    after(removeTemporaryDirs);
    this.timeout(60_000);

    it("the next deploy removes the worktree a killed one left registered, and keeps a live one's", async () => {
        const { repo, commit } = ProgramRepo.create({});
        // A deploy in the middle of a rollback: its worktree is checked out, and it never finishes.
        const script = `
            const { withWorktree } = require(${JSON.stringify(path.join(ROOT, "deploy", "revisions.ts"))});
            withWorktree({ repoDir: ${JSON.stringify(repo.dir)}, projectPath: "" }, ${JSON.stringify(commit)}, (dir) => {
                console.log(dir);
                return new Promise(() => setInterval(() => undefined, 1000));
            });
        `;
        const killed = spawn(process.execPath, ["-r", REGISTER, "-e", script], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        });
        const left = await new Promise<string>((resolve, reject) => {
            killed.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
            killed.once("exit", (code) => reject(new Error(`the deploy exited ${code} before its worktree was made`)));
        });
        killed.kill("SIGKILL");
        await new Promise((resolve) => killed.once("exit", resolve));
        assert.equal(worktrees(repo.dir).length, 2, "the killed deploy's worktree is registered");

        const revision = sourceRevision(repo.dir)!;
        const during = await withWorktree(revision, commit, (dir) => {
            // Another deploy pruning now must leave this live one's worktree alone.
            pruneAbandonedWorktrees(repo.dir);
            return Promise.resolve(worktrees(repo.dir).includes(dir));
        });
        assert.ok(during, "the new deploy keeps its own worktree while it runs");
        assert.deepEqual(worktrees(repo.dir), [fs.realpathSync(repo.dir)], "only the checkout is left");
        assert.ok(await eventually(() => !fs.existsSync(left), 1000), `${left} is still there`);
        assert.equal(repo.state().status, "", "the user's checkout is untouched");
    });
});
