import { EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { FUNCTION_RUNTIME, FUNCTION_RUNTIMES, runtimeStage } from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { T } from "../lib/types";

const SOURCE = "cloud.google.com/run/docs/runtimes/function-runtimes";
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const configSchema: PolicyConfigSchema = {
    properties: {
        asOf: {
            type: "string",
            pattern: DAY.source,
            description:
                "The day (YYYY-MM-DD, UTC) runtimes are judged on; unset, the day the preview runs. Set it to see what a later deploy will meet.",
        },
    },
};

/** Where a resource names its runtime, and the runtime ID it names there. */
interface RuntimeUse {
    readonly property: string;
    readonly value: string;
    readonly id: string;
}

/**
 * A Cloud Run function's base image is `REGION-docker.pkg.dev/serverless-runtimes/STACK/runtimes/ID`
 * (@pulumi/gcp 9.37 cloudrunv2/service.d.ts, the "Cloudrunv2 Service Function" examples); any other
 * image is the user's own container, which no runtime schedule governs.
 */
function baseImageRuntime(image: unknown): string | undefined {
    const match = typeof image === "string" ? /\/serverless-runtimes\/[^/]+\/runtimes\/([^/:@]+)/.exec(image) : null;
    return match ? match[1] : undefined;
}

function runtimeUses(type: string, props: Record<string, unknown>): RuntimeUse[] {
    const record = (v: unknown) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});
    if (type === T.cloudFunctionV2) {
        const runtime = record(props.buildConfig).runtime;
        return typeof runtime === "string" ? [{ property: "buildConfig.runtime", value: runtime, id: runtime }] : [];
    }
    const uses: RuntimeUse[] = [];
    const fromImage = (property: string, image: unknown) => {
        const id = baseImageRuntime(image);
        if (id !== undefined) {
            uses.push({ property, value: String(image), id });
        }
    };
    fromImage("buildConfig.baseImage", record(props.buildConfig).baseImage);
    const containers = record(props.template).containers;
    (Array.isArray(containers) ? containers : []).forEach((c, i) =>
        fromImage(`template.containers[${i}].baseImageUri`, record(c).baseImageUri),
    );
    return uses;
}

/** The SDK's reportViolation takes an object with its own level (@pulumi/policy server.js, makeReportViolationFun). */
function reportAt(report: ReportViolation, level: EnforcementLevel, message: string): void {
    (report as unknown as (info: { message: string; enforcementLevel: EnforcementLevel }) => void)({
        message,
        enforcementLevel: level,
    });
}

export const disallowRetiredFunctionRuntime: ResourceValidationPolicy = {
    name: "disallow-retired-function-runtime",
    description:
        "A Cloud Run function must not use a runtime Google has decommissioned, and should not use a deprecated or unknown one.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: `Set the function's runtime to ${FUNCTION_RUNTIME}, or another runtime the support schedule (${SOURCE}) lists as supported.`,
    configSchema,
    validateResource: forTypes([T.cloudFunctionV2, T.cloudRunV2Service], (args, report) => {
        const uses = runtimeUses(args.type, args.props);
        if (uses.length === 0) {
            args.notApplicable("no function runtime: a container image of its own");
        }
        const asOf = (args.getConfig<{ asOf?: string }>().asOf ?? "").trim();
        const day = DAY.test(asOf) ? asOf : new Date().toISOString().slice(0, 10);
        for (const use of uses) {
            const stage = runtimeStage(use.id, day);
            const row = FUNCTION_RUNTIMES.find((r) => r.id === use.id);
            const finding = {
                property: use.property,
                required: `a runtime the support schedule lists as supported on ${day}`,
                fix: `set ${use.property} to ${FUNCTION_RUNTIME}`,
            };
            if (stage === "decommissioned") {
                report(
                    explain(args.type, args.name, {
                        ...finding,
                        found: `${show(use.value)}, decommissioned since ${row?.decommissioned}`,
                        why: `Google refuses to create or redeploy a function on a decommissioned runtime (${SOURCE})`,
                    }),
                );
            } else if (stage === "deprecated") {
                reportAt(
                    report,
                    "advisory",
                    explain(args.type, args.name, {
                        ...finding,
                        found: `${show(use.value)}, deprecated since ${row?.deprecated}`,
                        why: `from ${row?.decommissioned} Google refuses to create or redeploy it (${SOURCE})`,
                    }),
                );
            } else if (stage === "unknown") {
                reportAt(
                    report,
                    "advisory",
                    explain(args.type, args.name, {
                        ...finding,
                        found: `${show(use.value)}, an unknown runtime`,
                        why: `the pack knows the dates of ${FUNCTION_RUNTIMES.map((r) => r.id).join(", ")} only, so it cannot tell whether Google still builds this one (${SOURCE})`,
                    }),
                );
            }
        }
    }),
};
