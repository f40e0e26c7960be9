import { ResourceValidationPolicy } from "@pulumi/policy";
import { HASH_AFFINITIES, HASH_LOCALITY_POLICIES } from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const enforceAffinityLocalityPolicy: ResourceValidationPolicy = {
    name: "enforce-affinity-locality-policy",
    description: "HTTP_COOKIE and HEADER_FIELD affinity only work with a RING_HASH or MAGLEV locality policy, from which they take their consistent hash.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps: "Set localityLbPolicy RING_HASH (or MAGLEV) and a consistentHash block, or use GENERATED_COOKIE.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const affinity: unknown = args.props.sessionAffinity;
        if (typeof affinity !== "string" || !HASH_AFFINITIES.includes(affinity)) {
            args.notApplicable("affinity does not use a consistent hash");
        }
        const policy: unknown = args.props.localityLbPolicy;
        if (typeof policy !== "string" || !HASH_LOCALITY_POLICIES.includes(policy)) {
            report(
                explain(args.type, args.name, {
                    property: "localityLbPolicy",
                    found: `${show(policy)} with sessionAffinity ${String(affinity)}`,
                    required: HASH_LOCALITY_POLICIES.join(" or "),
                    fix: "set localityLbPolicy: \"RING_HASH\" and consistentHash, or use GENERATED_COOKIE",
                    why: `${String(affinity)} takes its settings from consistentHash, which only a hashing locality policy reads (gcpdiag lb/BP/2022_001)`,
                }),
            );
        }
    }),
};
