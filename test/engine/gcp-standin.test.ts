import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GcpStandIn } from "./gcp-provider/standIn";
import { enumProblems, valuesAt } from "./gcp-provider/enum-checks";
import { protoFacts, protoFactsFile } from "./gcp-provider/google-protos";
import { ENUM_FIELDS, NOT_ENUMS } from "./gcp-provider/proto-map";
import { ProgramRun, runStack } from "../helpers/stack";

// The gcp stand-in's refusals, called as the engine calls them (Create on an in-memory cloud),
// without the CLI: each starts from inputs the API accepts and breaks one property. The engine
// tier (test/engine/*.engine.ts) runs the same provider under the real CLI.

type Props = Record<string, unknown>;
const PROJECT = "example-chat-staging";

function standIn(): GcpStandIn {
    return new GcpStandIn({ project: PROJECT, region: "us-central1" }, undefined);
}
const urn = (type: string, name: string) => `urn:pulumi:staging::websocket-lb::${type}::${name}`;

async function refusal(p: GcpStandIn, type: string, name: string, inputs: Props): Promise<string> {
    try {
        await p.create(urn(type, name), inputs);
    } catch (e) {
        return e instanceof Error ? e.message : String(e);
    }
    throw new Error(`${type} ${name} was accepted: ${JSON.stringify(inputs)}`);
}

const T = {
    backendService: "gcp:compute/backendService:BackendService",
    neg: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    uptime: "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    alert: "gcp:monitoring/alertPolicy:AlertPolicy",
    fn: "gcp:cloudfunctionsv2/function:Function",
    run: "gcp:cloudrunv2/service:Service",
    secretMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
    urlMap: "gcp:compute/uRLMap:URLMap",
};

const cookieBackend: Props = {
    name: "api-backend",
    protocol: "HTTP",
    loadBalancingScheme: "EXTERNAL_MANAGED",
    sessionAffinity: "GENERATED_COOKIE",
    affinityCookieTtlSec: 86_400,
    timeoutSec: 86_400,
};

describe("engine: the gcp stand-in refuses what Google's API definitions refuse", function () {
    this.timeout(60_000);
    before(() => {
        // Parses Google's protos once (seconds) or reads the cached facts.
        protoFacts();
    });

    it("accepts a compliant backend service, then refuses each enum value Google's proto does not list, naming the proto", async () => {
        const p = standIn();
        await p.create(urn(T.backendService, "ok"), cookieBackend);
        const message = await refusal(p, T.backendService, "bad", {
            ...cookieBackend,
            name: "bad",
            protocol: "WEBSOCKET",
        });
        assert.match(
            message,
            /Invalid value for field 'protocol': "WEBSOCKET"\. Must be one of google\.cloud\.compute\.v1\.BackendService\.Protocol: .*HTTP2.* \[source: @google-cloud\/compute\/build\/protos\/google\/cloud\/compute\/v1\/compute\.proto \(google\.cloud\.compute\.v1\.BackendService\.Protocol\)\]/,
        );
    });

    it("enforces a value's proto comment: CLIENT_IP_PROTO on an HTTP backend service, with the comment as the error", async () => {
        const message = await refusal(standIn(), T.backendService, "x", {
            ...cookieBackend,
            sessionAffinity: "CLIENT_IP_PROTO",
        });
        assert.match(
            message,
            /'CLIENT_IP_PROTO'\. 3-tuple hash .* This option cannot be used for HTTP\(S\) load balancing\. \[source: .*compute\.proto/,
        );
        const internal = await refusal(standIn(), T.backendService, "y", {
            ...cookieBackend,
            sessionAffinity: "CLIENT_IP_NO_DESTINATION",
        });
        assert.match(internal, /can only be used for Internal TCP\/UDP Load Balancing/);
    });

    it("refuses STRONG_COOKIE_AFFINITY without its cookie block, and a cookie TTL over two weeks", async () => {
        assert.match(
            await refusal(standIn(), T.backendService, "s", {
                ...cookieBackend,
                sessionAffinity: "STRONG_COOKIE_AFFINITY",
                affinityCookieTtlSec: undefined,
            }),
            /strongSessionAffinityCookie': unset\. .*required if the sessionAffinity is set to ?STRONG_COOKIE_AFFINITY.*\[source: .*compute\.proto \(BackendService\.strong_session_affinity_cookie\)\]/,
        );
        assert.match(
            await refusal(standIn(), T.backendService, "t", { ...cookieBackend, affinityCookieTtlSec: 1_209_601 }),
            /'1209601'\. The maximum allowed value is two weeks \(1,209,600\)\./,
        );
    });

    it("refuses a health check, a balancing mode or capacity on a backend service of serverless NEGs", async () => {
        const p = standIn();
        const neg = await p.create(urn(T.neg, "neg"), {
            name: "auth-neg",
            region: "us-central1",
            networkEndpointType: "SERVERLESS",
            cloudRun: { service: "auth" },
        });
        const serverless = {
            name: "auth-backend",
            protocol: "HTTPS",
            loadBalancingScheme: "EXTERNAL_MANAGED",
            backends: [{ group: neg.id }],
        };
        await p.create(urn(T.backendService, "auth"), serverless);
        assert.match(
            await refusal(p, T.backendService, "hc", {
                ...serverless,
                name: "hc",
                healthChecks: "projects/p/global/healthChecks/h",
            }),
            /serverless NEG backends must not have a health check\. \[source: .*compute\.proto \(BackendService\.health_checks\)\]/,
        );
        assert.match(
            await refusal(p, T.backendService, "rate", {
                ...serverless,
                name: "rate",
                backends: [{ group: neg.id, balancingMode: "RATE", maxRatePerEndpoint: 100 }],
            }),
            /backends\[0\]': balancingMode, maxRatePerEndpoint set\. .*\[source: https:\/\/cloud\.google\.com\/load-balancing\/docs\/negs\/serverless-neg-concepts\]/,
        );
    });

    it("refuses a regional group's fixed surge between 1 and its zone count minus one", async () => {
        const group = {
            name: "api",
            region: "us-central1",
            distributionPolicyZones: ["us-central1-a", "us-central1-b", "us-central1-c"],
            updatePolicy: {
                type: "PROACTIVE",
                minimalAction: "REPLACE",
                maxSurgeFixed: 3,
                maxUnavailableFixed: 0,
                instanceRedistributionType: "NONE",
            },
        };
        const p = standIn();
        await p.create(urn(T.mig, "ok"), group);
        assert.match(
            await refusal(p, T.mig, "two", {
                ...group,
                name: "two",
                updatePolicy: { ...group.updatePolicy, maxSurgeFixed: 2 },
            }),
            /maxSurgeFixed': '2'\. .*at least the number of zones \(3\)\. \[source: https:\/\/cloud\.google\.com\/compute\/docs\/instance-groups\/rolling-out-updates/,
        );
    });

    it("refuses an uptime check period or timeout out of range, quoting uptime.proto", async () => {
        const check = { displayName: "chat", period: "60s", timeout: "60s" };
        const p = standIn();
        await p.create(urn(T.uptime, "ok"), check);
        assert.match(
            await refusal(p, T.uptime, "p", { ...check, period: "120s" }),
            /'period': "120s"\. Currently, the only supported values are `60s`.*uptime\.proto/,
        );
        assert.match(
            await refusal(p, T.uptime, "t", { ...check, timeout: "61s" }),
            /'timeout': "61s"\. .*must be between 1 and 60 seconds.*uptime\.proto/,
        );
    });

    it("refuses an alert filter without a resource type, and a denominator filter without a metric type, each quoting its own alert.proto comment", async () => {
        const condition = (filter: string, denominatorFilter?: string) => ({
            combiner: "OR",
            displayName: "x",
            conditions: [
                {
                    displayName: "c",
                    conditionThreshold: { filter, denominatorFilter, comparison: "COMPARISON_GT", duration: "60s" },
                },
            ],
        });
        const metricOnly = 'metric.type="logging.googleapis.com/user/m"';
        const good = `${metricOnly} AND resource.type="http_load_balancer"`;
        const p = standIn();
        // The denominator may leave the resource type out: alert.proto makes it optional there.
        await p.create(urn(T.alert, "ok"), condition(good, metricOnly));
        assert.match(
            await refusal(p, T.alert, "bad", condition(metricOnly, good)),
            /conditions\[0\]\.conditionThreshold\.filter had an invalid value .*The filter must specify the metric type and the resource type\..*alert\.proto \(AlertPolicy\.Condition\.MetricThreshold\.filter\)/,
        );
        assert.match(
            await refusal(p, T.alert, "bad-denominator", condition(good, 'resource.type="http_load_balancer"')),
            /denominatorFilter had an invalid value .*The filter must specify the metric type and optionally may contain restrictions on resource type.*denominator_filter/,
        );
    });

    it("refuses a decommissioned function runtime, on the day it runs", async () => {
        const fn = {
            name: "chat-synthetic",
            location: "us-central1",
            buildConfig: { runtime: "nodejs18", entryPoint: "x" },
        };
        assert.match(
            await refusal(standIn(), T.fn, "old", fn),
            /'buildConfig\.runtime': 'nodejs18'\. The runtime is decommissioned.*\[source: https:\/\/cloud\.google\.com\/run\/docs\/runtimes\/function-runtimes\]/,
        );
    });

    it("refuses a Cloud Run revision whose account cannot read a secret it references, until the grant exists", async () => {
        const p = standIn();
        const service = {
            name: "auth",
            location: "us-central1",
            template: {
                serviceAccount: "auth-sa@example-chat-staging.iam.gserviceaccount.com",
                containers: [
                    {
                        image: "i",
                        envs: [
                            {
                                name: "API_TOKEN",
                                valueSource: { secretKeyRef: { secret: "api-token", version: "latest" } },
                            },
                        ],
                    },
                ],
            },
        };
        assert.match(
            await refusal(p, T.run, "auth", service),
            /Permission denied on secret: projects\/example-chat-staging\/secrets\/api-token for Revision service account auth-sa@.*\[source: https:\/\/cloud\.google\.com\/run\/docs\/configuring\/services\/secrets\]/,
        );
        await p.create(urn(T.secretMember, "grant"), {
            secretId: "api-token",
            role: "roles/secretmanager.secretAccessor",
            member: "serviceAccount:auth-sa@example-chat-staging.iam.gserviceaccount.com",
        });
        await p.create(urn(T.run, "auth"), service);
    });

    it("refuses URL-map header names Google refuses, at every headerAction level", async () => {
        const map = (name: string) => ({
            name: `m-${name.toLowerCase()}`,
            defaultService: "projects/p/global/backendServices/b",
            pathMatchers: [
                {
                    name: "pm",
                    defaultService: "projects/p/global/backendServices/b",
                    routeRules: [
                        {
                            priority: 1,
                            headerAction: {
                                requestHeadersToAdds: [{ headerName: name, headerValue: "v", replace: true }],
                            },
                        },
                    ],
                },
            ],
        });
        const p = standIn();
        await p.create(urn(T.urlMap, "ok"), map("X-Chat-Route"));
        for (const name of ["Host", "X-Goog-Thing", "Connection"]) {
            assert.match(
                await refusal(p, T.urlMap, name, map(name)),
                new RegExp(
                    `pathMatchers\\[0\\]\\.routeRules\\[0\\]\\.headerAction\\.requestHeadersToAdds\\[0\\]\\.headerName': '${name}'.*custom-headers-global`,
                ),
            );
        }
    });
});

describe("engine: the stand-in's cache of Google's proto facts", function () {
    this.timeout(120_000);
    it("reads the cache when it is whole, and parses the protos again when the file was cut short", () => {
        const facts = protoFacts();
        const file = protoFactsFile();
        assert.ok(fs.existsSync(file), "a cache file");
        const whole = fs.readFileSync(file, "utf8");
        // A second process (a new CLI command) reads the same facts from the file.
        const child = spawnSync(
            process.execPath,
            [
                "-r",
                "./cli/register.js",
                "-e",
                `console.log(JSON.stringify(require("./test/engine/gcp-provider/google-protos").protoFacts()).length)`,
            ],
            { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" },
        );
        assert.equal(child.stdout.trim(), String(JSON.stringify(facts).length), child.stderr);
        fs.writeFileSync(file, whole.slice(0, 100));
        try {
            const again = spawnSync(
                process.execPath,
                [
                    "-r",
                    "./cli/register.js",
                    "-e",
                    `console.log(Object.keys(require("./test/engine/gcp-provider/google-protos").protoFacts().enums).length)`,
                ],
                { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" },
            );
            assert.equal(again.stdout.trim(), String(Object.keys(facts.enums).length), again.stderr);
        } finally {
            fs.writeFileSync(file, whole);
        }
    });
});

describe("engine: every enum-valued property of both stacks is mapped to Google's protos", function () {
    this.timeout(120_000);
    const runs: Record<string, ProgramRun> = {};
    before(async () => {
        protoFacts();
        for (const stack of ["staging", "production"]) {
            runs[stack] = await runStack(stack);
        }
    });

    /** (type, path with []) of every upper-case constant a resource sets: what an API enum looks like. */
    function enumLike(run: ProgramRun): Array<{ type: string; path: string; value: string }> {
        const found: Array<{ type: string; path: string; value: string }> = [];
        for (const r of run.resources) {
            const walk = (v: unknown, path: string) => {
                if (Array.isArray(v)) {
                    v.forEach((x) => walk(x, `${path}[]`));
                } else if (typeof v === "object" && v !== null) {
                    Object.entries(v).forEach(([k, x]) => walk(x, path ? `${path}.${k}` : k));
                } else if (typeof v === "string" && /^[A-Z][A-Z0-9_]*$/.test(v)) {
                    found.push({ type: r.type, path, value: v });
                }
            };
            walk(r.inputs, "");
        }
        return found;
    }

    it("has a mapping (or a reason it is not an enum) for every enum-like value, and every value is in its proto enum", () => {
        const unmapped = new Set<string>();
        let checked = 0;
        for (const run of Object.values(runs)) {
            for (const { type, path } of enumLike(run)) {
                const mapped = ENUM_FIELDS.some((m) => m.type === type && m.path === path);
                if (!mapped && !NOT_ENUMS[`${type} ${path}`]) {
                    unmapped.add(`${type} ${path}`);
                }
            }
            for (const r of run.resources) {
                assert.deepEqual(enumProblems(r.type, r.inputs), [], r.urn);
                checked += ENUM_FIELDS.filter((m) => m.type === r.type).reduce(
                    (n, m) => n + valuesAt(r.inputs, m.path).length,
                    0,
                );
            }
        }
        assert.deepEqual([...unmapped], [], "add these to test/engine/gcp-provider/proto-map.ts");
        assert.ok(checked > 100, `only ${checked} values checked`);
    });

    it("fails for a property that is not mapped: a new enum cannot slip past", () => {
        const run = runs.staging;
        const fake = {
            ...run,
            resources: [
                ...run.resources,
                { ...run.resources[0], type: "gcp:compute/newThing:NewThing", inputs: { mode: "SOMETHING_NEW" } },
            ],
        };
        const missing = enumLike(fake as ProgramRun).filter(
            (e) => !ENUM_FIELDS.some((m) => m.type === e.type && m.path === e.path),
        );
        assert.deepEqual(
            missing.map((m) => `${m.type} ${m.path}`).filter((k) => !NOT_ENUMS[k]),
            ["gcp:compute/newThing:NewThing mode"],
        );
    });

    it("checks every mapped field against a real enum of Google's protos", () => {
        const facts = protoFacts();
        const fields = new Set(ENUM_FIELDS.map((m) => `${m.message}.${m.field}`));
        for (const key of fields) {
            assert.ok(Object.keys(facts.enums[key]?.values ?? {}).length > 1, key);
        }
        assert.ok(fields.size >= 30, `${fields.size} enum fields`);
    });
});
