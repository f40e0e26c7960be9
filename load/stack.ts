// What `npm run load` needs before it starts anything: credentials, and the stack's load job as its
// outputs name it (the `loadTest` output of index.ts, present only when the stack's loadTest
// setting is on).
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../cli/kit";
import { emulatorHost } from "./cloud-run";

/** The stack output `npm run load` reads (index.ts `loadTest`). */
export interface LoadTestOutputs {
    readonly project: string;
    readonly region: string;
    /** projects/P/locations/R/jobs/J */
    readonly job: string;
    readonly bucket: string;
}

/**
 * Where the Application Default Credentials would come from, as google-auth-library looks for a
 * file (node_modules/google-auth-library/build/src/auth/googleauth.js,
 * _tryGetApplicationCredentialsFromWellKnownFile): GOOGLE_APPLICATION_CREDENTIALS, else
 * $CLOUDSDK_CONFIG or ~/.config/gcloud's application_default_credentials.json. Both local
 * servers set (the tests): none needed.
 */
export function checkCredentials(env: NodeJS.ProcessEnv): string {
    const run = emulatorHost(env);
    const storage = env.STORAGE_EMULATOR_HOST;
    if (run && storage) {
        return `local servers: Cloud Run at ${env.CLOUD_RUN_EMULATOR_HOST}, Cloud Storage at ${storage}`;
    }
    if (run || storage) {
        throw new UsageError(
            `${run ? "CLOUD_RUN_EMULATOR_HOST" : "STORAGE_EMULATOR_HOST"} is set but ${run ? "STORAGE_EMULATOR_HOST" : "CLOUD_RUN_EMULATOR_HOST"} is not: set both (local servers) or neither (Google)`,
        );
    }
    const file =
        env.GOOGLE_APPLICATION_CREDENTIALS ||
        path.join(
            env.CLOUDSDK_CONFIG || path.join(env.HOME || os.homedir(), ".config", "gcloud"),
            "application_default_credentials.json",
        );
    if (!fs.existsSync(file)) {
        throw new UsageError(
            env.GOOGLE_APPLICATION_CREDENTIALS
                ? `GOOGLE_APPLICATION_CREDENTIALS=${file}: no such file; it must name a service account key or credentials file`
                : `no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and ${file} does not exist; run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS`,
        );
    }
    return file;
}

function pulumiOutputs(stack: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            "pulumi",
            ["stack", "output", "--json", "--stack", stack],
            { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
            (error, stdout, stderr) => {
                if (error) {
                    const why =
                        (error as NodeJS.ErrnoException).code === "ENOENT"
                            ? "pulumi is not on PATH"
                            : stderr.trim().split("\n")[0] || error.message;
                    reject(
                        new UsageError(
                            `--stack ${stack}: could not read its outputs with pulumi stack output (${why}); or give --stack-outputs FILE`,
                        ),
                    );
                } else {
                    resolve(stdout);
                }
            },
        );
    });
}

/** The stack's load job from its outputs; a stack without loadTest is a usage error. */
function loadTestOf(stack: string, text: string, from: string): LoadTestOutputs {
    let outputs: { loadTest?: Partial<Record<keyof LoadTestOutputs, unknown>> | null };
    try {
        outputs = JSON.parse(text) as typeof outputs;
    } catch (e) {
        throw new UsageError(`${from}: cannot read it as JSON (${(e as Error).message})`);
    }
    const lt = outputs?.loadTest;
    if (lt === undefined || lt === null) {
        throw new UsageError(
            `stack ${stack} has no load job (${from} has no loadTest output): set websocket-lb:loadTest in Pulumi.${stack}.yaml (docs/load.md) and run pulumi up`,
        );
    }
    const fields = ["project", "region", "job", "bucket"] as const;
    const missing = fields.filter((f) => typeof lt[f] !== "string" || lt[f] === "");
    if (missing.length > 0) {
        throw new UsageError(
            `${from}: loadTest has no ${missing.join(", ")}; expected the outputs of this project's program`,
        );
    }
    const out = lt as LoadTestOutputs;
    if (!/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/.test(out.job)) {
        throw new UsageError(
            `${from}: loadTest.job ${JSON.stringify(out.job)}: expected projects/P/locations/R/jobs/J`,
        );
    }
    return out;
}

export async function readLoadTestOutputs(stack: string, outputsFile: string | undefined): Promise<LoadTestOutputs> {
    if (outputsFile !== undefined) {
        let text: string;
        try {
            text = fs.readFileSync(outputsFile, "utf8");
        } catch (e) {
            throw new UsageError(
                `--stack-outputs ${outputsFile}: cannot read it (${(e as NodeJS.ErrnoException).code})`,
            );
        }
        return loadTestOf(stack, text, `--stack-outputs ${outputsFile}`);
    }
    return loadTestOf(stack, await pulumiOutputs(stack), `stack ${stack}'s outputs`);
}
