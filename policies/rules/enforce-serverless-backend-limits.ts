import { StackValidationPolicy } from "@pulumi/policy";
import { backendServices, serverlessNegsOf } from "../lib/backends";
import { isSet } from "../lib/props";
import { explain, Finding, show } from "../lib/report";

const REJECTED: Array<{ property: string; applies: (props: Record<string, unknown>) => boolean; finding: Omit<Finding, "property" | "found"> }> = [
    {
        property: "timeoutSec",
        applies: (props) => isSet(props, "timeoutSec"),
        finding: {
            required: "unset",
            fix: "remove timeoutSec and set the Cloud Run service's request timeout (template.timeout) instead",
            why: "the API answers 400 \"Timeout sec is not supported for a backend service with Serverless network endpoint groups\"",
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
    description: "Backend services in front of serverless NEGs must not set timeoutSec, load balancer session affinity or a locality policy, which the API rejects or ignores there.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: "Remove timeoutSec, sessionAffinity and localityLbPolicy from the serverless backend service; configure Cloud Run's timeout and session affinity.",
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
                    report(explain(service.type, service.name, { property: rule.property, found: show(service.props[rule.property]), ...rule.finding }), service.urn);
                }
            }
        }
    },
};
