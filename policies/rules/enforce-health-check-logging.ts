import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { schemaFor, settingsFrom } from "../lib/config";
import { healthChecksOf, websocketBackends } from "../lib/groups";
import { record } from "../lib/props";
import { explain, show, subject } from "../lib/report";

export const enforceHealthCheckLogging: StackValidationPolicy = {
    name: "enforce-health-check-logging",
    description:
        "Health checks of the stack that an Application Load Balancer backend serving WebSocket paths uses should log, so a backend that turns unhealthy, and drops every socket it holds, leaves a record of when and why.",
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps: "Set logConfig { enable: true } on the health check.",
    configSchema: schemaFor("websocketPaths"),
    validateStack: (args, report) => {
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const users = new Map<PolicyResource, PolicyResource[]>();
        for (const service of websocketBackends(args.resources, websocketPaths)) {
            for (const check of healthChecksOf(service, args.resources)) {
                users.set(check, [...(users.get(check) ?? []), service]);
            }
        }
        if (users.size === 0) {
            args.notApplicable("no WebSocket backend of the stack uses a health check of the stack");
        }
        for (const [check, services] of users) {
            const enabled = record(check.props.logConfig)?.enable;
            if (enabled !== true) {
                report(
                    explain(check.type, check.name, {
                        property: "logConfig.enable",
                        found: `${show(enabled)} on the health check of ${services.map((s) => subject(s.type, s.name)).join(", ")}`,
                        required: "true",
                        fix: "set logConfig: { enable: true }",
                        why: "health check logs record each backend's health transitions (cloud.google.com/load-balancing/docs/health-check-logging), the trace of why sockets were cut (gcpdiag lb/BP/2023_002)",
                    }),
                    check.urn,
                );
            }
        }
    },
};
