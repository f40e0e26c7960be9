import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless } from "../lib/backends";
import { forTypes } from "../lib/policy";
import { explain } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const enforceConnectionDraining: ResourceValidationPolicy = {
    name: "enforce-connection-draining",
    description:
        "Backend services of every kind of load balancer (Application, proxy and passthrough Network) should drain connections for a while, so that open WebSockets can finish while a backend is removed during a rollout.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps: "Set connectionDrainingTimeoutSec to 300 or more.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        if (looksServerless(args.props)) {
            args.notApplicable("serverless NEGs do not drain through the backend service");
        }
        if (args.props.connectionDrainingTimeoutSec === 0) {
            report(
                explain(args.type, args.name, {
                    property: "connectionDrainingTimeoutSec",
                    found: "0 (no draining)",
                    required: "more than 0",
                    fix: "set connectionDrainingTimeoutSec: 300",
                    why: "without draining a rollout cuts every open WebSocket on the removed backend at once (gcpdiag lb/BP/2025_003)",
                }),
            );
        }
    }),
};
