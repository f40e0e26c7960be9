import { StackValidationPolicy } from "@pulumi/policy";
import { backendServices, serverlessNegsOf } from "../lib/backends";
import { SERVERLESS_REJECTED_BACKEND_FIELDS } from "../lib/gcp-facts";
import { isSet, list } from "../lib/props";
import { explain, Finding, show } from "../lib/report";

const REJECTED: Array<{
    property: string;
    applies: (props: Record<string, unknown>) => boolean;
    finding: Omit<Finding, "property" | "found">;
}> = [
    {
        property: "timeoutSec",
        applies: (props) => isSet(props, "timeoutSec"),
        finding: {
            required: "unset",
            fix: "remove timeoutSec and set the Cloud Run service's request timeout (template.timeout) instead",
            why: 'the API answers 400 "Timeout sec is not supported for a backend service with Serverless network endpoint groups"',
        },
    },
    {
        property: "sessionAffinity",
        applies: (props) => isSet(props, "sessionAffinity") && props.sessionAffinity !== "NONE",
        finding: {
            required: "unset or NONE",
            fix: "remove sessionAffinity and turn on Cloud Run's own (template.sessionAffinity: true)",
            why: "load balancer session affinity is not supported on serverless NEGs",
        },
    },
    {
        property: "healthChecks",
        applies: (props) => isSet(props, "healthChecks"),
        finding: {
            required: "unset",
            fix: "remove healthChecks; Cloud Run manages its own instances' health",
            why: "the API refuses health checks on a backend service with serverless NEG backends",
        },
    },
    {
        property: "localityLbPolicy",
        applies: (props) => isSet(props, "localityLbPolicy"),
        finding: {
            required: "unset",
            fix: "remove localityLbPolicy",
            why: "locality load balancing policies are not supported on serverless NEGs",
        },
    },
];

export const enforceServerlessBackendLimits: StackValidationPolicy = {
    name: "enforce-serverless-backend-limits",
    description:
        "Backend services in front of serverless NEGs must not set timeoutSec, health checks, a balancing mode or capacity, load balancer session affinity or a locality policy, which the API rejects or ignores there.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Remove timeoutSec, healthChecks, balancingMode and capacity settings, sessionAffinity and localityLbPolicy from the serverless backend service; configure Cloud Run's timeout and session affinity.",
    validateStack: (args, report) => {
        const services = backendServices(args.resources);
        if (services.length === 0) {
            args.notApplicable("the stack has no backend services");
        }
        for (const service of services) {
            if (serverlessNegsOf(service, args.resources).length === 0) {
                continue;
            }
            for (const rule of REJECTED) {
                if (rule.applies(service.props)) {
                    report(
                        explain(service.type, service.name, {
                            property: rule.property,
                            found: show(service.props[rule.property]),
                            ...rule.finding,
                        }),
                        service.urn,
                    );
                }
            }
            list(service.props.backends).forEach((backend, i) => {
                const capacity = SERVERLESS_REJECTED_BACKEND_FIELDS.filter((field) => isSet(backend, field));
                if (capacity.length > 0) {
                    report(
                        explain(service.type, service.name, {
                            property: `backends[${i}].${capacity.join(`, backends[${i}].`)}`,
                            found: capacity.map((field) => `${field} ${show(backend[field])}`).join(", "),
                            required: "unset",
                            fix: "remove the balancing mode and capacity settings from the serverless NEG backend",
                            why: "serverless NEGs take no balancing mode or capacity: Cloud Run scales itself, and the API refuses them",
                        }),
                        service.urn,
                    );
                }
            });
        }
    },
};
