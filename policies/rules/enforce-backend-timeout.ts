import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, timeoutOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { explain, show } from "../lib/report";
import { forTypes } from "../lib/policy";
import { patched } from "../lib/props";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

const NOT_SERVERLESS =
    "backed only by regional NEGs, which may be serverless and then reject timeoutSec; enforce-serverless-backend-limits judges it at the stack phase";

export const enforceBackendTimeout: ResourceValidationPolicy = {
    name: "enforce-backend-timeout",
    description:
        "Backend services that carry WebSockets must allow a connection to live at least minTimeoutSec seconds.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps:
        "Set timeoutSec on the backend service to at least minTimeoutSec; remediation sets it to exactly minTimeoutSec.",
    configSchema: schemaFor("minTimeoutSec"),
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        if (looksServerless(args.props)) {
            args.notApplicable(NOT_SERVERLESS);
        }
        const { minTimeoutSec } = settingsFrom(args.getConfig, "minTimeoutSec");
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
        if (!BACKEND_SERVICE_TYPES.includes(args.type) || looksServerless(args.props)) {
            return undefined;
        }
        const { minTimeoutSec } = settingsFrom(args.getConfig, "minTimeoutSec");
        return timeoutOf(args.props) < minTimeoutSec ? patched(args.props, { timeoutSec: minTimeoutSec }) : undefined;
    },
};
