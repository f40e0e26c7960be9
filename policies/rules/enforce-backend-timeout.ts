import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, timeoutOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { JUDGES, lbKindOf, notApplicationReason } from "../lib/lb-kind";
import { explain, show } from "../lib/report";
import { forTypes } from "../lib/policy";
import { patched } from "../lib/props";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

const NOT_SERVERLESS =
    "backed only by regional NEGs, which may be serverless and then reject timeoutSec; enforce-serverless-backend-limits judges it at the stack phase";
// A proxy Network Load Balancer reads timeoutSec as an idle timeout and a passthrough one not as a
// proxy timeout at all (compute.proto, `BackendService.timeout_sec`: "a different meaning depending
// on the type of load balancer"; cloud.google.com/load-balancing/docs/backend-service, "Backend
// service timeout"), so only on an Application Load Balancer is it a WebSocket's lifetime.
const WHAT = "timeoutSec as a WebSocket's lifetime";

/** Why the rule does not judge this resource, or undefined when it does. */
function notJudged(args: ResourceValidationArgs): string | undefined {
    if (!BACKEND_SERVICE_TYPES.includes(args.type)) {
        return "not a backend service";
    }
    if (looksServerless(args.props)) {
        return NOT_SERVERLESS;
    }
    return notApplicationReason(lbKindOf(args.type, args.props), WHAT);
}

export const enforceBackendTimeout: ResourceValidationPolicy = {
    name: "enforce-backend-timeout",
    description: `${JUDGES.application} that carry WebSockets must allow a connection to live at least minTimeoutSec seconds.`,
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps:
        "Set timeoutSec on the backend service to at least minTimeoutSec; remediation sets it to exactly minTimeoutSec.",
    configSchema: schemaFor("minTimeoutSec"),
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const reason = notJudged(args);
        if (reason) {
            args.notApplicable(reason);
        }
        const { minTimeoutSec } = settingsFrom(() => args.getConfig(), "minTimeoutSec");
        const timeout = timeoutOf(args.props);
        if (timeout < minTimeoutSec) {
            report(
                explain(args.type, args.name, {
                    property: "timeoutSec",
                    found: args.props.timeoutSec === undefined ? "unset (the API default, 30)" : show(timeout),
                    required: `at least ${minTimeoutSec}`,
                    fix: `set timeoutSec: ${minTimeoutSec}`,
                    why: "for WebSockets timeoutSec is the connection's whole lifetime, idle or not, so the load balancer cuts every socket at that age",
                }),
            );
        }
    }),
    remediateResource: (args) => {
        if (notJudged(args)) {
            return undefined;
        }
        const { minTimeoutSec } = settingsFrom(() => args.getConfig(), "minTimeoutSec");
        return timeoutOf(args.props) < minTimeoutSec ? patched(args.props, { timeoutSec: minTimeoutSec }) : undefined;
    },
};
