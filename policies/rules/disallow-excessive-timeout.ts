import { ResourceValidationPolicy } from "@pulumi/policy";
import { RECOMMENDED_MAX_TIMEOUT_SEC } from "../lib/gcp-facts";
import { JUDGES, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const disallowExcessiveTimeout: ResourceValidationPolicy = {
    name: "disallow-excessive-timeout",
    description: `${JUDGES.application} with timeouts above 86400 seconds gain nothing, because Google's front ends restart for maintenance and clients must reconnect anyway.`,
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps: "Set timeoutSec to 86400 and make clients reconnect.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        requireApplication(args, "timeoutSec as a response and WebSocket timeout");
        const timeout: unknown = args.props.timeoutSec;
        if (typeof timeout === "number" && timeout > RECOMMENDED_MAX_TIMEOUT_SEC) {
            report(
                explain(args.type, args.name, {
                    property: "timeoutSec",
                    found: show(timeout),
                    required: `at most ${RECOMMENDED_MAX_TIMEOUT_SEC}`,
                    fix: `set timeoutSec: ${RECOMMENDED_MAX_TIMEOUT_SEC} and reconnect on close`,
                    why: "GFEs restart for maintenance, so no connection outlives a day reliably (gcpdiag lb/BP/2025_002)",
                }),
            );
        }
    }),
};
