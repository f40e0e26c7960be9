import * as pulumi from "@pulumi/pulumi";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import { LoadTestSettings } from "./settings";

// The load job (`loadTest`): a Cloud Run job running the validator image (validator/Dockerfile),
// one task per machine of a distributed load, each writing its result to a bucket of its own that
// forgets old results. `npm run load` (load/cli.ts) runs it with each run's task count and share.

export interface LoadTest {
    readonly job: cloudrunv2.Job;
    readonly bucket: storage.Bucket;
    readonly account: serviceaccount.Account;
    readonly writer: storage.BucketIAMMember;
    /** What `npm run load` reads from the stack's outputs (load/stack.ts, LoadTestOutputs). */
    readonly outputs: pulumi.Output<{ project: string; region: string; job: string; bucket: string }>;
}

export function createLoadTest(
    name: string,
    settings: LoadTestSettings,
    targetUrl: string,
    deletionProtection: boolean,
    parent: pulumi.Resource,
): LoadTest {
    const opts = { parent };
    const account = new serviceaccount.Account(
        `${name}-load`,
        {
            accountId: `${name}-load-test`.slice(0, 30),
            displayName: "Runs the WebSocket load job's tasks; may only create objects in its bucket",
        },
        opts,
    );
    // Auto-named: bucket names are global, and a run's shards need no memorable one.
    const bucket = new storage.Bucket(
        `${name}-load-shards`,
        {
            location: settings.region.toUpperCase(),
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            // Shards are results already merged and reported; nothing to keep at destroy.
            forceDestroy: true,
            // storage/bucket.d.ts, BucketLifecycleRule: action.type Delete, condition.age in days.
            lifecycleRules: [{ action: { type: "Delete" }, condition: { age: settings.shardRetentionDays } }],
        },
        opts,
    );
    // Create only: objectCreator has storage.objects.create and no read, overwrite or delete
    // (https://cloud.google.com/storage/docs/access-control/iam-roles); each task writes one new
    // object, named by its run and index, and `npm run load` reads with the user's own credentials.
    const writer = new storage.BucketIAMMember(
        `${name}-load-writer`,
        { bucket: bucket.name, role: "roles/storage.objectCreator", member: account.member },
        opts,
    );
    // cloudrunv2/job.d.ts and types/input.d.ts (cloudrunv2.JobTemplate, JobTemplateTemplate,
    // JobTemplateTemplateContainer, JobTemplateTemplateContainerResources).
    const job = new cloudrunv2.Job(
        `${name}-load`,
        {
            location: settings.region,
            // The provider defaults to true, which makes `pulumi destroy` of a staging stack fail.
            deletionProtection,
            template: {
                // Overridden by every run (RunJobRequest.Overrides.task_count).
                taskCount: 1,
                template: {
                    serviceAccount: account.email,
                    // A retried task would open its share again, late, beside the others.
                    maxRetries: 0,
                    // Overridden by every run with the time its load needs.
                    timeout: "3600s",
                    containers: [
                        {
                            image: settings.image,
                            resources: { limits: { cpu: settings.cpu, memory: `${settings.memoryMiB}Mi` } },
                            envs: [
                                { name: "LOAD_BUCKET", value: bucket.name },
                                { name: "LOAD_TARGET_URL", value: targetUrl },
                            ],
                        },
                    ],
                },
            },
        },
        // The tasks' first write must not race the grant.
        { parent, dependsOn: [writer] },
    );
    const outputs = pulumi
        .all([job.project, job.location, job.name, bucket.name])
        .apply(([project, region, jobName, bucketName]) => ({
            project,
            region,
            job: `projects/${project}/locations/${region}/jobs/${jobName}`,
            bucket: bucketName,
        }));
    return { job, bucket, account, writer, outputs };
}
