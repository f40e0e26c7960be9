// The load job's shards in Cloud Storage: where each task writes its own, and how `npm run load`
// reads them back. Through @google-cloud/storage, pointed at STORAGE_EMULATOR_HOST when it is set
// (the tests' fake-gcs-server), as the library itself documents that variable.
import { Bucket, Storage } from "@google-cloud/storage";

/** The folder of one run: every task's shard, and nothing else, lands under it. */
export function runPrefix(runId: string): string {
    return `runs/${runId}/`;
}

/** Task `index`'s shard; zero-padded so a listing sorts by task. */
export function shardObjectName(runId: string, index: number): string {
    return `${runPrefix(runId)}task-${String(index).padStart(5, "0")}.json`;
}

/** The task index a shard's object name carries, or undefined for an object that is not one. */
export function taskOfObject(runId: string, name: string): number | undefined {
    const m = /^task-(\d{5})\.json$/.exec(name.slice(runPrefix(runId).length));
    return name.startsWith(runPrefix(runId)) && m ? Number(m[1]) : undefined;
}

/** The emulator's address as the library takes it: a URL, http:// when none is given. */
function emulatorEndpoint(env: NodeJS.ProcessEnv): string | undefined {
    const host = env.STORAGE_EMULATOR_HOST;
    return host ? (/^https?:\/\//.test(host) ? host : `http://${host}`) : undefined;
}

export function openBucket(env: NodeJS.ProcessEnv, bucket: string, timeoutMs = 60_000): Bucket {
    const apiEndpoint = emulatorEndpoint(env);
    const storage = new Storage({
        ...(apiEndpoint ? { apiEndpoint, projectId: "local" } : {}),
        // Bounded: a store that stops answering ends the command with an error, not a hang.
        timeout: timeoutMs,
        retryOptions: { maxRetries: 2, totalTimeout: Math.ceil((timeoutMs * 3) / 1000) },
    });
    if (apiEndpoint) {
        // With STORAGE_EMULATOR_HOST set, @google-cloud/storage 8.4.0 sends uploads to
        // apiEndpoint/upload/storage/v1 but JSON API calls to the variable's value as it is, without
        // /storage/v1 (build/cjs/src/storage.js, baseUrl); fake-gcs-server answers those 404.
        // Both from the one endpoint, as against storage.googleapis.com.
        storage.baseUrl = `${apiEndpoint.replace(/\/+$/, "")}/storage/v1`;
    }
    return storage.bucket(bucket);
}

export interface StoredShard {
    readonly object: string;
    readonly task: number;
    readonly text: string;
}

/** Every shard of a run, by task; objects under the run that are not shards are left alone. */
export async function readShards(bucket: Bucket, runId: string): Promise<StoredShard[]> {
    const [files] = await bucket.getFiles({ prefix: runPrefix(runId) });
    const shards: StoredShard[] = [];
    for (const file of files) {
        const task = taskOfObject(runId, file.name);
        if (task !== undefined) {
            const [contents] = await file.download();
            shards.push({ object: `gs://${bucket.name}/${file.name}`, task, text: contents.toString("utf8") });
        }
    }
    return shards.sort((a, b) => a.task - b.task);
}
