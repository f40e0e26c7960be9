import { strict as assert } from "assert";
import { ProgramError, ProgramRun, RecordedResource } from "../../preview";
import { dependedOnBy, named, ofType, runStack } from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const T = {
    job: "gcp:cloudrunv2/job:Job",
    bucket: "gcp:storage/bucket:Bucket",
    writer: "gcp:storage/bucketIAMMember:BucketIAMMember",
    account: "gcp:serviceaccount/account:Account",
};
const p = (r: RecordedResource) => r.inputs as Props;
const IMAGE = "us-docker.pkg.dev/chat-staging/tools/ws-validate:1";

async function configError(overrides: string[]): Promise<string> {
    try {
        await runStack("staging", overrides);
    } catch (e) {
        assert.ok(e instanceof ProgramError, String(e));
        return e.message;
    }
    assert.fail("the program ran");
}

describe("infrastructure: the load job (loadTest, mock runtime)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runStack("staging", [`loadTest={"image": "${IMAGE}", "shardRetentionDays": 3}`]);
    });

    it("runs the validator image as a Cloud Run job under its own account, told its bucket and target", () => {
        const job = named(run, T.job, "chat-load");
        const account = named(run, T.account, "chat-load");
        const template = p(job).template as Props;
        assert.equal(p(job).location, "us-central1");
        assert.equal(template.taskCount, 1);
        assert.equal(template.template.maxRetries, 0, "a retried task would open its share again, late");
        assert.equal(template.template.containers[0].image, IMAGE);
        assert.deepEqual(template.template.containers[0].resources.limits, { cpu: "2", memory: "2048Mi" });
        assert.deepEqual(dependedOnBy(run, job, "template"), [account, named(run, T.bucket, "chat-load-shards")]);
        const envs = Object.fromEntries(
            (template.template.containers[0].envs as Array<{ name: string; value: string }>).map((e) => [
                e.name,
                e.value,
            ]),
        );
        assert.equal(envs.LOAD_TARGET_URL, "wss://staging.chat.example.com/ws");
        assert.ok(envs.LOAD_BUCKET, "the bucket's name");
        assert.equal(p(account).accountId, "chat-load-test");
    });

    it("creates a private bucket that deletes old shards, which the job's account may only create objects in", () => {
        const bucket = named(run, T.bucket, "chat-load-shards");
        assert.equal(p(bucket).uniformBucketLevelAccess, true);
        assert.equal(p(bucket).publicAccessPrevention, "enforced");
        assert.deepEqual(p(bucket).lifecycleRules, [{ action: { type: "Delete" }, condition: { age: 3 } }]);
        const writers = ofType(run, T.writer);
        assert.equal(writers.length, 1);
        assert.equal(p(writers[0]).role, "roles/storage.objectCreator");
        assert.deepEqual(dependedOnBy(run, writers[0], "bucket"), [bucket]);
        assert.deepEqual(dependedOnBy(run, writers[0], "member"), [named(run, T.account, "chat-load")]);
    });

    it("exports what npm run load reads: project, region, the job's full name and the bucket", () => {
        const outputs = run.outputs.loadTest as Record<string, unknown> | undefined;
        assert.ok(outputs, JSON.stringify(Object.keys(run.outputs)));
        assert.deepEqual(Object.keys(outputs).sort(), ["bucket", "job", "project", "region"]);
    });

    it("is off by default: the stacks as shipped declare none of it", async () => {
        const plain = await runStack("staging");
        assert.deepEqual(
            [T.job, T.writer].flatMap((t) => ofType(plain, t)),
            [],
        );
        assert.equal(plain.outputs.loadTest, null);
    });

    it("refuses a missing image, unknown keys, CPUs Cloud Run refuses and too little memory for them, naming each", async () => {
        const message = await configError(['loadTest={"cpu": "3", "imag": "x", "shardRetentionDays": 0}']);
        assert.match(
            message,
            /websocket-lb:loadTest\.image is unset; allowed: the image built from validator\/Dockerfile/,
        );
        assert.match(message, /websocket-lb:loadTest\.imag is "x"; unknown key; allowed: .*; did you mean image\?/);
        assert.match(message, /websocket-lb:loadTest\.cpu is "3"; allowed: 1, 2, 4, 6, 8/);
        assert.match(message, /websocket-lb:loadTest\.shardRetentionDays is 0; allowed: an integer from 1 to 365/);
        const memory = await configError([`loadTest={"image": "${IMAGE}", "cpu": "8", "memoryMiB": 2048}`]);
        assert.match(
            memory,
            /websocket-lb:loadTest\.memoryMiB is 2048; allowed: an integer from 4096 to 32768 \(with 8 CPUs, Cloud Run jobs take 4096 to 32768 MiB\)/,
        );
        assert.match(
            await configError(["loadTest=12"]),
            /websocket-lb:loadTest is 12; allowed: true, false, or \{enabled, image/,
        );
    });
});
