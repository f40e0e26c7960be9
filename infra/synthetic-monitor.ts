import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudfunctionsv2 from "@pulumi/gcp/cloudfunctionsv2";
import * as logging from "@pulumi/gcp/logging";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as projects from "@pulumi/gcp/projects";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import { importsOf, transpile } from "../cli/typescript-cache";
import { FUNCTION_BUILD_ROLES, FUNCTION_RUNTIME } from "../policies/facts";
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
/**
 * The field of the structured log line the function writes when a run fails, and its value: what
 * the chat-degradation metric counts. The SDK's own answer cannot be counted on (see ENTRY_JS).
 */
export const FAILED_RUN_FIELD = "chatSyntheticRun";
export const FAILED_RUN_VALUE = "failed";
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
    /** The identity Cloud Build builds the function as, with the roles FUNCTION_BUILD_ROLES lists. */
    readonly buildAccount: serviceaccount.Account;
    readonly buildRoles: projects.IAMMember[];
    readonly function: cloudfunctionsv2.Function;
    /** Failed runs, from the function's own log line. */
    readonly failedRuns: logging.Metric;
    readonly uptimeCheck: monitoring.UptimeCheckConfig;
    readonly alert: monitoring.AlertPolicy;
}

/**
 * The entry file: Google's SDK runs the check and answers Cloud Monitoring with its result. The
 * SDK answers HTTP 200 whether the check passed or not (only `synthetic_generic_result_v1.ok`
 * differs; test/validator/synthetic-monitor.test.ts runs it against a failing chat server), and
 * synthetics-sdk-nodejs #157 reports check_passed staying at 100 % on failures. So a failed run
 * also writes one structured log line, severity ERROR, that a log-based metric counts: Cloud Run
 * turns a JSON line on stdout into a structured entry with its `severity`
 * (https://cloud.google.com/run/docs/logging, "Writing structured logs").
 */
const ENTRY_JS = `// Built by infra/synthetic-monitor.ts. The synthetics SDK turns a resolved check into a passed
// run and a thrown error into a failed one, with its message; a failed run is also logged as one
// structured line, which the chat-degradation alert counts.
const functions = require("@google-cloud/functions-framework");
const { runSyntheticHandler } = require("@google-cloud/synthetics-sdk-api");
const { syntheticCheck } = require("./validator/synthetic-monitor");
async function checkAndRecord(args) {
    try {
        await syntheticCheck(args);
    } catch (e) {
        console.log(JSON.stringify({
            severity: "ERROR",
            message: e instanceof Error ? e.message : String(e),
            ${FAILED_RUN_FIELD}: ${JSON.stringify(FAILED_RUN_VALUE)},
        }));
        throw e;
    }
}
functions.http(${JSON.stringify(ENTRY_POINT)}, runSyntheticHandler(checkAndRecord));
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

/** The function's source: a private bucket and the zip of functionSourceFiles, named by its content. */
function createFunctionSource(
    name: string,
    settings: SyntheticMonitorSettings,
    opts: { parent: pulumi.Resource },
): { bucket: storage.Bucket; source: storage.BucketObject } {
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
    return { bucket, source };
}

/**
 * The synthetic monitor. `channels` are where its alert goes: the business team's channels
 * when alert routes are set, else every monitoring channel.
 */
export function createSyntheticMonitor(
    name: string,
    settings: SyntheticMonitorSettings,
    targetUrl: string,
    channels: readonly pulumi.Input<string>[],
    parent: pulumi.Resource,
): SyntheticMonitor {
    const opts = { parent };
    const { bucket, source } = createFunctionSource(name, settings, opts);
    const { serviceAccount, tokenAccess } = createRunIdentity(name, settings, opts);
    const build = createBuildIdentity(name, opts);
    const fn = new cloudfunctionsv2.Function(
        `${name}-synthetic`,
        {
            location: settings.region,
            description: `Chat checks (${settings.scenario}) against ${targetUrl}, run by the uptime check ${name}-synthetic`,
            buildConfig: {
                runtime: FUNCTION_RUNTIME,
                entryPoint: ENTRY_POINT,
                source: { storageSource: { bucket: bucket.name, object: source.name } },
                // Its own build identity: a new project's default Cloud Build account may lack the roles.
                serviceAccount: build.account.name,
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
        { ...opts, dependsOn: [...build.roles, ...(tokenAccess ? [tokenAccess] : [])] },
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
    const { failedRuns, alert } = createChatDegradationAlert(name, settings, targetUrl, fn, channels, opts);
    return {
        bucket,
        source,
        serviceAccount,
        buildAccount: build.account,
        buildRoles: build.roles,
        function: fn,
        failedRuns,
        uptimeCheck,
        alert,
    };
}

/** The identity the function runs as, allowed to read the chat token when there is one. */
function createRunIdentity(
    name: string,
    settings: SyntheticMonitorSettings,
    opts: { parent: pulumi.Resource },
): { serviceAccount: serviceaccount.Account; tokenAccess?: secretmanager.SecretIamMember } {
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
    return { serviceAccount, tokenAccess };
}

/** A service account for the function's build, with exactly the roles the build needs. */
function createBuildIdentity(
    name: string,
    opts: { parent: pulumi.Resource },
): { account: serviceaccount.Account; roles: projects.IAMMember[] } {
    const account = new serviceaccount.Account(
        `${name}-synthetic-build`,
        {
            accountId: `${name}-synthetic-build`.slice(0, 30),
            displayName: "Builds the chat synthetic monitor's function (Cloud Build)",
        },
        opts,
    );
    const roles = FUNCTION_BUILD_ROLES.map(
        (role) =>
            new projects.IAMMember(
                `${name}-synthetic-build-${role
                    .replace(/^roles\//, "")
                    .replace(/\./g, "-")
                    .toLowerCase()}`,
                { project: account.project, role, member: account.member },
                opts,
            ),
    );
    return { account, roles };
}

/**
 * The chat-degradation alert, on a signal that changes when the checks fail: the count of the
 * function's failed-run log lines (ENTRY_JS), from the Cloud Run revision the function runs on.
 * A Cloud Run function's logs carry resource.type cloud_run_revision with its service's name in
 * resource.labels.service_name (https://cloud.google.com/run/docs/logging, "Resource types";
 * that the service is named after the function is inferred from how Cloud Run functions are
 * deployed). The metric's series carry that resource type, which the alert filter names
 * (Monitoring MetricThreshold.filter must name the metric type and the resource type). Two
 * failed runs within two periods fire it, so one lost run does not page.
 */
function createChatDegradationAlert(
    name: string,
    settings: SyntheticMonitorSettings,
    targetUrl: string,
    fn: cloudfunctionsv2.Function,
    channels: readonly pulumi.Input<string>[],
    opts: { parent: pulumi.Resource },
): { failedRuns: logging.Metric; alert: monitoring.AlertPolicy } {
    const failedRuns = new logging.Metric(
        `${name}-chat-synthetic-failures`,
        {
            description: "Failed runs of the chat synthetic monitor (its function's failed-run log line)",
            filter: pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name="${fn.name}" AND jsonPayload.${FAILED_RUN_FIELD}="${FAILED_RUN_VALUE}"`,
            metricDescriptor: { metricKind: "DELTA", valueType: "INT64", unit: "1" },
        },
        opts,
    );
    const window = 2 * settings.periodSec;
    const alert = new monitoring.AlertPolicy(
        `${name}-alert-chat-degradation`,
        {
            displayName: "Chat functionality degradation",
            combiner: "OR",
            severity: "ERROR",
            userLabels: { audience: "business-operations" },
            conditions: [
                {
                    displayName: `synthetic chat checks failed twice within ${window} s`,
                    conditionThreshold: {
                        filter: pulumi.interpolate`metric.type="logging.googleapis.com/user/${failedRuns.name}" AND resource.type="cloud_run_revision"`,
                        aggregations: [
                            {
                                alignmentPeriod: `${window}s`,
                                perSeriesAligner: "ALIGN_DELTA",
                                crossSeriesReducer: "REDUCE_SUM",
                            },
                        ],
                        comparison: "COMPARISON_GT",
                        thresholdValue: 1,
                        duration: "0s",
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
        // A new log-based metric can take minutes before alert policies accept it (terraform-provider-google #11102).
        { ...opts, dependsOn: [failedRuns] },
    );
    return { failedRuns, alert };
}
