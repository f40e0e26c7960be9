import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless, schemeOf } from "../lib/backends";
import {
    CONSISTENT_HASH_SCHEMES,
    HASH_AFFINITIES,
    HASH_LOCALITY_POLICIES,
    LOCALITY_POLICY_SCHEMES,
} from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { explain, show } from "../lib/report";
import { BACKEND_SERVICE_TYPES, T } from "../lib/types";

/** Whether Google's API text says consistentHash applies to this backend service. */
function takesConsistentHash(type: string, scheme: string): boolean {
    return CONSISTENT_HASH_SCHEMES[type === T.regionBackendService ? "regional" : "global"].includes(scheme);
}

export const enforceAffinityLocalityPolicy: ResourceValidationPolicy = {
    name: "enforce-affinity-locality-policy",
    description:
        "A backend service with any session affinity but NONE should use localityLbPolicy RING_HASH or MAGLEV, without which the API says affinity settings do not take effect.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Set localityLbPolicy RING_HASH (or MAGLEV); HTTP_COOKIE and HEADER_FIELD also take a consistentHash block on INTERNAL_SELF_MANAGED and regional INTERNAL_MANAGED, the only schemes Google's API text names for it, so elsewhere prefer GENERATED_COOKIE or STRONG_COOKIE_AFFINITY.",
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
            const hashable = takesConsistentHash(args.type, scheme);
            report(
                explain(args.type, args.name, {
                    property: "localityLbPolicy",
                    found: `${show(policy)} with sessionAffinity ${String(affinity)}`,
                    required: HASH_LOCALITY_POLICIES.join(" or "),
                    fix: !hashed
                        ? 'set localityLbPolicy: "RING_HASH"'
                        : hashable
                          ? 'set localityLbPolicy: "RING_HASH" and consistentHash, or use GENERATED_COOKIE'
                          : `set localityLbPolicy: "RING_HASH", or use GENERATED_COOKIE or STRONG_COOKIE_AFFINITY (Google's API text names consistentHash, where ${String(affinity)} takes its settings, only for INTERNAL_SELF_MANAGED and regional INTERNAL_MANAGED, not ${scheme})`,
                    why: hashed
                        ? `${String(affinity)} hashes on a cookie or header, which only a hashing locality policy reads`
                        : "the Compute API says session affinity settings do not take effect without MAGLEV or RING_HASH (gcpdiag lb/BP/2022_001 flags it for any affinity)",
                }),
            );
        }
    }),
};
