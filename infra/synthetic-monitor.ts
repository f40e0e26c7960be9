import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudfunctionsv2 from "@pulumi/gcp/cloudfunctionsv2";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import { importsOf, transpile } from "../cli/typescript-cache";
import { RUNBOOK } from "./monitoring";
import { SyntheticMonitorSettings } from "./settings";

// The chat checks of validator/scenarios/*.yaml, run by Cloud Monitoring every period: a Cloud
// Functions (2nd gen) function built from the validator's own files, an uptime check whose
// syntheticMonitor points at it, and an alert on its failures. The shape follows the provider's
// own example (node_modules/@pulumi/gcp/monitoring/uptimeCheckConfig.d.ts, "Uptime Check Config
// Synthetic Monitor": a bucket, a source object, a cloudfunctionsv2.Function, an uptime check with
// syntheticMonitor.cloudFunctionV2.name set to the function's id).

export const PROJECT_DIR = path.resolve(__dirname, "..");
/** The module whose export the entry file hands to Google's synthetics SDK. */
const HANDLER = "validator/synthetic-monitor.ts";
const ENTRY_POINT = "chatSynthetic";
/** The runtime of the provider's synthetic monitor example (uptimeCheckConfig.d.ts). */
const RUNTIME = "nodejs20";
/** The SDK and the framework the function needs besides the validator's own dependencies. */
const FUNCTION_DEPENDENCIES = {
    "@google-cloud/functions-framework": "5.0.5",
    "@google-cloud/synthetics-sdk-api": "0.7.0",
};
const VALIDATOR_DEPENDENCIES = ["ws", "yaml", "ajv"];

export interface SyntheticMonitor {
    readonly bucket: storage.Bucket;
    readonly source: storage.BucketObject;
    readonly serviceAccount: serviceaccount.Account;
    readonly function: cloudfunctionsv2.Function;
    readonly uptimeCheck: monitoring.UptimeCheckConfig;
    readonly alert: monitoring.AlertPolicy;
}

/** The entry file: Google's SDK runs the check and answers Cloud Monitoring with its result. */
const ENTRY_JS = `// Built by infra/synthetic-monitor.ts. The synthetics SDK turns a resolved check into a passed
// run and a thrown error into a failed one, with its message.
const functions = require("@google-cloud/functions-framework");
const { runSyntheticHandler } = require("@google-cloud/synthetics-sdk-api");
const { syntheticCheck } = require("./validator/synthetic-monitor");
functions.http(${JSON.stringify(ENTRY_POINT)}, runSyntheticHandler(syntheticCheck));
`;

/** The TypeScript files HANDLER needs, following relative imports. */
function sourceClosure(projectDir: string): string[] {
    const seen = new Set<string>();
    const visit = (relative: string) => {
        if (seen.has(relative)) {
            return;
        }
        seen.add(relative);
        const text = fs.readFileSync(path.join(projectDir, relative), "utf8");
        for (const imported of importsOf(text, relative)) {
            if (imported.startsWith(".")) {
                // A module is a file or a folder's index (the validator's rooms are imported by folder).
                const base = path.posix.join(path.posix.dirname(relative), imported);
                const asFile = `${base}.ts`;
                visit(fs.existsSync(path.join(projectDir, asFile)) ? asFile : `${base}/index.ts`);
            }
        }
    };
    visit(HANDLER);
    return [...seen].sort();
}

/**
 * The function's source, path in the zip to file content: the handler and every validator file it
 * imports (transpiled to JavaScript), the schema and scenario files, the entry file and a
 * package.json whose dependencies Cloud Build installs.
 */
export function functionSourceFiles(
    settings: SyntheticMonitorSettings,
    projectDir = PROJECT_DIR,
): Record<string, string> {
    const files: Record<string, string> = {};
    for (const relative of sourceClosure(projectDir)) {
        const source = fs.readFileSync(path.join(projectDir, relative), "utf8");
        // The project's own emit options (cli/typescript-cache.js), cached by content like every start's.
        files[relative.replace(/\.ts$/, ".js")] = transpile(source, relative).code;
    }
    files["validator/scenarios/scenario.schema.json"] = fs.readFileSync(
        path.join(projectDir, "validator/scenarios/scenario.schema.json"),
        "utf8",
    );
    files[`validator/scenarios/${path.basename(settings.scenario)}`] = fs.readFileSync(
        path.resolve(projectDir, settings.scenario),
        "utf8",
    );
    files["index.js"] = ENTRY_JS;
    const rootPackage = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    files["package.json"] = JSON.stringify(
        {
            name: "chat-synthetic-monitor",
            private: true,
            main: "index.js",
            dependencies: {
                ...Object.fromEntries(VALIDATOR_DEPENDENCIES.map((d) => [d, rootPackage.dependencies[d]])),
                ...FUNCTION_DEPENDENCIES,
            },
        },
        null,
        2,
    );
    return files;
}

/**
 * The synthetic monitor. `channels` are where its alert goes: for now the load balancer's
 * monitoring channels; per-team routes (the business team's) plug in here.
 */
export function createSyntheticMonitor(
    name: string,
    settings: SyntheticMonitorSettings,
    targetUrl: string,
    channels: readonly pulumi.Input<string>[],
    parent: pulumi.Resource,
): SyntheticMonitor {
    const opts = { parent };
    const files = functionSourceFiles(settings);
    // The object's name carries the content hash, so a change to the validator or the scenario
    // redeploys the function (a new storageSource), instead of updating a file nobody rebuilds.
    const digest = crypto
        .createHash("sha256")
        .update(JSON.stringify(Object.entries(files).sort()))
        .digest("hex")
        .slice(0, 12);

    const bucket = new storage.Bucket(
        `${name}-synthetic-source`,
        {
            location: settings.region.toUpperCase(),
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            forceDestroy: true,
        },
        opts,
    );
    const source = new storage.BucketObject(
        `${name}-synthetic-source`,
        {
            bucket: bucket.name,
            name: `chat-synthetic-${digest}.zip`,
            source: new pulumi.asset.AssetArchive(
                Object.fromEntries(
                    Object.entries(files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]),
                ),
            ),
        },
        opts,
    );
    const serviceAccount = new serviceaccount.Account(
        `${name}-synthetic`,
        {
            accountId: `${name}-synthetic-monitor`.slice(0, 30),
            displayName: "Chat synthetic monitor (runs validator/scenarios checks)",
        },
        opts,
    );
    const tokenAccess = settings.tokenSecret
        ? new secretmanager.SecretIamMember(
              `${name}-synthetic-token`,
              {
                  secretId: settings.tokenSecret,
                  role: "roles/secretmanager.secretAccessor",
                  member: pulumi.interpolate`serviceAccount:${serviceAccount.email}`,
              },
              opts,
          )
        : undefined;
    const fn = new cloudfunctionsv2.Function(
        `${name}-synthetic`,
        {
            location: settings.region,
            description: `Chat checks (${settings.scenario}) against ${targetUrl}, run by the uptime check ${name}-synthetic`,
            buildConfig: {
                runtime: RUNTIME,
                entryPoint: ENTRY_POINT,
                source: { storageSource: { bucket: bucket.name, object: source.name } },
            },
            serviceConfig: {
                maxInstanceCount: 1,
                availableMemory: "256M",
                // The uptime check waits at most 60 s (uptimeCheckConfig.d.ts, timeout); the function may finish its log lines after.
                timeoutSeconds: 90,
                serviceAccountEmail: serviceAccount.email,
                environmentVariables: {
                    WS_VALIDATE_URL: targetUrl,
                    WS_VALIDATE_SCENARIO: `scenarios/${path.basename(settings.scenario)}`,
                },
                secretEnvironmentVariables: settings.tokenSecret
                    ? [
                          {
                              key: "CHAT_TOKEN",
                              projectId: serviceAccount.project,
                              secret: settings.tokenSecret,
                              version: "latest",
                          },
                      ]
                    : undefined,
            },
        },
        { ...opts, dependsOn: tokenAccess ? [tokenAccess] : [] },
    );
    const uptimeCheck = new monitoring.UptimeCheckConfig(
        `${name}-synthetic`,
        {
            displayName: "Chat functionality (synthetic WebSocket checks)",
            // Allowed periods: 60s, 300s, 600s, 900s (uptimeCheckConfig.d.ts, period).
            period: `${settings.periodSec}s`,
            // At most 60 s (uptimeCheckConfig.d.ts, timeout): the scenario's longest check must fit.
            timeout: "60s",
            syntheticMonitor: { cloudFunctionV2: { name: fn.id } },
        },
        opts,
    );
    // A monitor created through the API needs its own alert policy on the uptime_check/check_passed
    // metric of the Cloud Run resource the function runs on; the console's default alerts after two
    // or more consecutive failures (cloud.google.com/monitoring/synthetic-monitors/create, "About
    // synthetic monitors"). Two failing periods in a row, then, so one lost run does not page. The
    // resource type name cloud_run_revision is inferred from "the Cloud Run resource".
    const alert = new monitoring.AlertPolicy(
        `${name}-alert-chat-degradation`,
        {
            displayName: "Chat functionality degradation",
            combiner: "OR",
            severity: "ERROR",
            userLabels: { audience: "business-operations" },
            conditions: [
                {
                    displayName: `synthetic chat checks failing for ${2 * settings.periodSec} s`,
                    conditionThreshold: {
                        filter: pulumi.interpolate`metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND metric.label.check_id="${uptimeCheck.uptimeCheckId}" AND resource.type="cloud_run_revision"`,
                        aggregations: [
                            {
                                alignmentPeriod: `${settings.periodSec}s`,
                                perSeriesAligner: "ALIGN_COUNT_FALSE",
                                crossSeriesReducer: "REDUCE_SUM",
                            },
                        ],
                        comparison: "COMPARISON_GT",
                        thresholdValue: 0,
                        duration: `${2 * settings.periodSec}s`,
                    },
                },
            ],
            notificationChannels: [...channels],
            documentation: {
                mimeType: "text/markdown",
                content:
                    `The synthetic chat checks (${settings.scenario}) fail against ${targetUrl}: users cannot chat or agent events are late. ` +
                    `The failed check, step and evidence are in the function's logs (${name}-synthetic). Reproduce with ` +
                    `\`npm run validate -- --url ${targetUrl} --scenario ${settings.scenario}\`. Runbook: ${RUNBOOK}.`,
            },
        },
        opts,
    );
    return { bucket, source, serviceAccount, function: fn, uptimeCheck, alert };
}
