import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PipelineOptions } from "../../deploy/pipeline";
import { PROGRAM_FILE, StandInProgram } from "../../deploy/targets/stand-in-backend";
import { thresholdsFrom } from "../../validator";

/** Short holds: the stand-in's "before the fix" cut is 0.5 s, and validation holds 1 s. No watch, nothing kept, unless asked. */
export function options(log: string[], overrides: Partial<PipelineOptions> = {}): PipelineOptions {
    return {
        stack: "staging",
        dryRun: false,
        propagationTimeoutSec: 2,
        validation: {
            endpoints: ["/ws"],
            // Latency bars loosened: these tests are about the pipeline, and the shared machine they
            // run on is often loaded enough to push local echo latency past the incident acceptance's 100 ms.
            thresholds: thresholdsFrom(["message_latency_p95_ms<1000", "handshake_p95_ms<5000"]),
            handshakeTimeoutMs: 2000,
            messages: 3,
            echo: true,
            messageTimeoutMs: 1000,
            holdSec: 1,
            holdMode: "both",
            pingIntervalSec: 0.2,
        },
        watch: { durationSec: 0, intervalSec: 0.2, maxHandshakeFailureRate: 0.1, max5xxIncrease: 0.2 },
        keep: { connections: 0, probeIntervalMs: 100 },
        change: { images: {} },
        log: (line) => log.push(line),
        ...overrides,
    };
}

const temporary: string[] = [];

/**
 * A folder in the system's temporary folder, removed when the test process exits (mocha's
 * workers included), whatever the tests did: `npm test` leaves nothing in /tmp.
 */
export function temporaryDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    if (temporary.length === 0) {
        // The fallback: suites remove theirs in an after hook (mocha's workers are killed, not exited).
        process.once("exit", removeTemporaryDirs);
    }
    temporary.push(dir);
    return dir;
}

/** Removes every folder temporaryDir made so far: suites call it in an after hook. */
export function removeTemporaryDirs(): void {
    for (const d of temporary.splice(0)) {
        fs.rmSync(d, { recursive: true, force: true });
    }
}

export function git(dir: string, ...args: string[]): string {
    return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * A git repository whose stand-in.json is the stand-in's program: the user's checkout. Each
 * `commit` is a program revision; the hash is returned.
 */
export class ProgramRepo {
    private constructor(readonly dir: string) {}

    static create(program: Partial<StandInProgram>): { repo: ProgramRepo; commit: string } {
        const dir = temporaryDir("stand-in-program-");
        git(dir, "init", "--quiet", "--initial-branch=main");
        git(dir, "config", "user.email", "deploy-test@example.com");
        git(dir, "config", "user.name", "deploy test");
        git(dir, "config", "commit.gpgsign", "false");
        const repo = new ProgramRepo(dir);
        return { repo, commit: repo.commit(program, "the good program") };
    }

    write(program: Partial<StandInProgram>): void {
        fs.writeFileSync(path.join(this.dir, PROGRAM_FILE), JSON.stringify(program, null, 2) + "\n");
    }

    commit(program: Partial<StandInProgram>, message: string): string {
        this.write(program);
        git(this.dir, "add", PROGRAM_FILE);
        // --allow-empty: a deploy of an unchanged program is still a commit of its own.
        git(this.dir, "commit", "--quiet", "--allow-empty", "-m", message);
        return git(this.dir, "rev-parse", "HEAD");
    }

    /** What the user sees: HEAD, the file on disk, `git status`, and the worktrees git knows. */
    state(): { head: string; file: string; status: string; worktrees: number } {
        return {
            head: git(this.dir, "rev-parse", "HEAD"),
            file: fs.readFileSync(path.join(this.dir, PROGRAM_FILE), "utf8"),
            status: git(this.dir, "status", "--porcelain"),
            worktrees: git(this.dir, "worktree", "list").split("\n").length,
        };
    }
}
