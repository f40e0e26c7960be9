import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless } from "../lib/backends";
import { JUDGES, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { list } from "../lib/props";
import { explain } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const disallowAffinityWithUtilization: ResourceValidationPolicy = {
    name: "disallow-affinity-with-utilization",
    description: `${JUDGES.application} with session affinity should balance by RATE, because UTILIZATION balancing moves clients off their backend as load shifts.`,
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps: "Set balancingMode RATE with maxRatePerInstance (or maxRatePerEndpoint) on every backend.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const affinity: unknown = args.props.sessionAffinity;
        if (looksServerless(args.props) || affinity === undefined || affinity === "NONE") {
            args.notApplicable("no load balancer session affinity");
        }
        // RATE is a balancing mode of HTTP(S) backends only; Network Load Balancers balance by CONNECTION or UTILIZATION.
        requireApplication(args, "balancing by RATE");
        list(args.props.backends).forEach((backend, i) => {
            const mode = backend.balancingMode ?? "UTILIZATION";
            if (mode === "UTILIZATION") {
                report(
                    explain(args.type, args.name, {
                        property: `backends[${i}].balancingMode`,
                        found: backend.balancingMode === undefined ? "unset (UTILIZATION)" : '"UTILIZATION"',
                        required: '"RATE" while sessionAffinity is on',
                        fix: 'set balancingMode: "RATE" with maxRatePerInstance',
                        why: `session affinity ${String(affinity)} with UTILIZATION balancing breaks stickiness (gcpdiag lb/BP/2026_001)`,
                    }),
                );
            }
        });
    }),
};
