import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless } from "../lib/backends";
import { DEFAULT_HASH_LOCALITY_POLICY_BY_KIND, HASH_AFFINITIES } from "../lib/gcp-facts";
import { describeKind, lbKindOf } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const enforceAffinityLocalityPolicy: ResourceValidationPolicy = {
    name: "enforce-affinity-locality-policy",
    description:
        "A backend service with any session affinity but NONE should use a hashing localityLbPolicy its kind accepts (RING_HASH or MAGLEV on Application Load Balancers and Cloud Service Mesh, MAGLEV or WEIGHTED_MAGLEV on external passthrough Network Load Balancers), without which the API says affinity settings do not take effect.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Set localityLbPolicy RING_HASH (or MAGLEV), or MAGLEV on an external passthrough Network Load Balancer; HTTP_COOKIE and HEADER_FIELD also need a consistentHash block.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const affinity: unknown = args.props.sessionAffinity;
        if (typeof affinity !== "string" || affinity === "NONE" || looksServerless(args.props)) {
            args.notApplicable("no load balancer session affinity");
        }
        const kind = lbKindOf(args.type, args.props);
        const accepted = kind.hashLocalityPolicies;
        if (accepted.length === 0) {
            args.notApplicable(`${describeKind(kind)} takes no hashing localityLbPolicy`);
        }
        const policy: unknown = args.props.localityLbPolicy ?? DEFAULT_HASH_LOCALITY_POLICY_BY_KIND[kind.id];
        if (typeof policy !== "string" || !accepted.includes(policy)) {
            const hashed = HASH_AFFINITIES.includes(String(affinity));
            const pick = accepted[0];
            report(
                explain(args.type, args.name, {
                    property: "localityLbPolicy",
                    found: `${show(policy)} with sessionAffinity ${String(affinity)} on ${describeKind(kind)}`,
                    required: accepted.join(" or "),
                    fix: hashed
                        ? `set localityLbPolicy: "${pick}" and consistentHash, or use GENERATED_COOKIE`
                        : `set localityLbPolicy: "${pick}"`,
                    why: hashed
                        ? `${String(affinity)} takes its settings from consistentHash, which only a hashing locality policy reads`
                        : `the Compute API says session affinity settings do not take effect without a hashing locality policy, and this kind accepts only ${accepted.join(", ")} of them (gcpdiag lb/BP/2022_001 flags it for any affinity)`,
                }),
            );
        }
    }),
};
