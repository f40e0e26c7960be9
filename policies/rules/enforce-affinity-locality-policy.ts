import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, schemeOf } from "../lib/backends";
import { HASH_AFFINITIES, HASH_LOCALITY_POLICIES, LOCALITY_POLICY_SCHEMES } from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const enforceAffinityLocalityPolicy: ResourceValidationPolicy = {
    name: "enforce-affinity-locality-policy",
    description:
        "A backend service with any session affinity but NONE should use localityLbPolicy RING_HASH or MAGLEV, without which the API says affinity settings do not take effect.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Set localityLbPolicy RING_HASH (or MAGLEV); HTTP_COOKIE and HEADER_FIELD also need a consistentHash block.",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        const affinity: unknown = args.props.sessionAffinity;
        if (typeof affinity !== "string" || affinity === "NONE" || looksServerless(args.props)) {
            args.notApplicable("no load balancer session affinity");
        }
        const scheme = schemeOf(args.props);
        if (!LOCALITY_POLICY_SCHEMES.includes(scheme)) {
            args.notApplicable(`loadBalancingScheme ${scheme} takes no localityLbPolicy`);
        }
        const policy: unknown = args.props.localityLbPolicy;
        if (typeof policy !== "string" || !HASH_LOCALITY_POLICIES.includes(policy)) {
            const hashed = HASH_AFFINITIES.includes(String(affinity));
            report(
                explain(args.type, args.name, {
                    property: "localityLbPolicy",
                    found: `${show(policy)} with sessionAffinity ${String(affinity)}`,
                    required: HASH_LOCALITY_POLICIES.join(" or "),
                    fix: hashed
                        ? 'set localityLbPolicy: "RING_HASH" and consistentHash, or use GENERATED_COOKIE'
                        : 'set localityLbPolicy: "RING_HASH"',
                    why: hashed
                        ? `${String(affinity)} takes its settings from consistentHash, which only a hashing locality policy reads`
                        : "the Compute API says session affinity settings do not take effect without MAGLEV or RING_HASH (gcpdiag lb/BP/2022_001 flags it for any affinity)",
                }),
            );
        }
    }),
};
