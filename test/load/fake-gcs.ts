import { ChildProcess, spawn, spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "../helpers/cli";
import { freePort } from "../validator/servers";

// fake-gcs-server (github.com/fsouza/fake-gcs-server), a Cloud Storage emulator speaking the JSON
// API, built from its Go module by scripts/fake-gcs-server.sh: @google-cloud/storage talks to it
// as it would to storage.googleapis.com.

export const FAKE_GCS_BINARY = path.join(ROOT, ".tools", "bin", "fake-gcs-server");

/** Builds the server once (cached under .tools); the script's own message when it cannot. */
export function buildFakeGcs(): { ok: boolean; why?: string } {
    const result = spawnSync("bash", [path.join(ROOT, "scripts", "fake-gcs-server.sh")], {
        cwd: ROOT,
        stdio: ["ignore", "inherit", "pipe"],
        encoding: "utf8",
    });
    process.stderr.write(result.stderr ?? "");
    return result.status === 0 ? { ok: true } : { ok: false, why: (result.stderr ?? "").trim().split("\n").pop() };
}

export interface FakeGcs {
    /** For STORAGE_EMULATOR_HOST. */
    readonly url: string;
    stop(): void;
}

/** Starts the server in memory on a free loopback port, with these buckets made. */
export async function startFakeGcs(buckets: readonly string[]): Promise<FakeGcs> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn(
        FAKE_GCS_BINARY,
        [
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            String(port),
            "-backend",
            "memory",
            "-external-url",
            url,
            "-public-host",
            `127.0.0.1:${port}`,
            "-log-level",
            "warn",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
        try {
            const res = await fetch(`${url}/storage/v1/b?project=local`);
            if (res.ok) {
                break;
            }
        } catch {
            // Not listening yet.
        }
        if (child.exitCode !== null || Date.now() > deadline) {
            child.kill("SIGKILL");
            throw new Error(`fake-gcs-server did not start on ${url} (exit ${child.exitCode}): ${log.slice(-500)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    for (const name of buckets) {
        const res = await fetch(`${url}/storage/v1/b?project=local`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name }),
        });
        if (!res.ok) {
            throw new Error(`fake-gcs-server: could not create bucket ${name}: ${res.status} ${await res.text()}`);
        }
    }
    return { url, stop: () => child.kill("SIGKILL") };
}
