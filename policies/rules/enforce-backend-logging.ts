import { ResourceValidationPolicy } from "@pulumi/policy";
import { JUDGES, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { record } from "../lib/props";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const enforceBackendLogging: ResourceValidationPolicy = {
    name: "enforce-backend-logging",
    description: `${JUDGES.application} should log requests, because the status and statusDetails in those logs are what the WebSocket and timeout alerts count.`,
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps: "Set logConfig { enable: true, sampleRate: 1.0 }.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        requireApplication(args, "HTTP request logging");
        const logConfig = record(args.props.logConfig);
        if (logConfig?.enable !== true) {
            report(
                explain(args.type, args.name, {
                    property: "logConfig.enable",
                    found: show(logConfig?.enable),
                    required: "true",
                    fix: "set logConfig: { enable: true, sampleRate: 1.0 }",
                    why: "without request logs a failed upgrade or a backend timeout (statusDetails) leaves no trace",
                }),
            );
        }
    }),
};
