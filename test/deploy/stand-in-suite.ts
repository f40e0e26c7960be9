import { GateResult, PipelineReport } from "../../deploy/pipeline";
import { sourceRevision } from "../../deploy/revisions";
import { LocalStandIn, StandInOptions } from "../../deploy/targets/stand-in";
import { ProgramRepo, removeTemporaryDirs } from "./fixtures";

// What the rollback-trigger suites share (triggers*.test.ts, zero-downtime.test.ts,
// interrupts.test.ts): they are files of their own so mocha's workers run them side by side,
// since each spends most of its time waiting on watch windows and held connections.

/** The gate, as already passed: the real offline gate is tested in pipeline.test.ts. */
export const passedGate = (): Promise<GateResult> =>
    Promise.resolve({
        ok: true,
        summary: "gate stubbed: tested in pipeline.test.ts",
    });
export const FIXED = { cutAfterSec: null };
export const CUT = { cutAfterSec: 0.5 };
export const statuses = (report: PipelineReport) => report.phases.map((p) => `${p.name}: ${p.status}`);
export const watch = (durationSec: number) => ({
    durationSec,
    intervalSec: 0.1,
    maxHandshakeFailureRate: 0.1,
    max5xxIncrease: 0.2,
});

/** Stand-ins that the calling describe's tests start, all stopped after it. Call inside a describe. */
export function standInSuite() {
    const standIns: LocalStandIn[] = [];
    const start = async (o: StandInOptions) => {
        const s = await LocalStandIn.start(o);
        standIns.push(s);
        return s;
    };
    after(async () => {
        await Promise.all(standIns.map((s) => s.stop()));
        removeTemporaryDirs();
    });

    /** A checkout at a recorded good commit, then a new commit with `next` as the program: the deploy. */
    async function deployOf(
        good: Parameters<typeof ProgramRepo.create>[0],
        next: Parameters<typeof ProgramRepo.create>[0],
        extra: Partial<StandInOptions> = {},
    ) {
        const { repo, commit } = ProgramRepo.create(good);
        const target = await start({
            applied: FIXED,
            desired: FIXED,
            programDir: repo.dir,
            lastGoodCommit: commit,
            ...extra,
        });
        const deployed = repo.commit(next, "the change");
        return { repo, good: commit, deployed, target, revision: sourceRevision(repo.dir)! };
    }
    return { start, deployOf };
}
