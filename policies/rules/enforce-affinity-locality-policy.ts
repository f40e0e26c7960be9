import { ResourceValidationPolicy } from "@pulumi/policy";
import { looksServerless } from "../lib/backends";
import { CONSISTENT_HASH_SCHEMES, DEFAULT_HASH_LOCALITY_POLICY_BY_KIND, HASH_AFFINITIES } from "../lib/gcp-facts";
import { describeKind, lbKindOf } from "../lib/lb-kind";
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
        "A backend service with any session affinity but NONE should use a hashing localityLbPolicy its kind accepts (RING_HASH or MAGLEV on Application Load Balancers and Cloud Service Mesh, MAGLEV or WEIGHTED_MAGLEV on external passthrough Network Load Balancers), without which the API says affinity settings do not take effect.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Set localityLbPolicy RING_HASH (or MAGLEV), or MAGLEV on an external passthrough Network Load Balancer; HTTP_COOKIE and HEADER_FIELD also take a consistentHash block on INTERNAL_SELF_MANAGED and regional INTERNAL_MANAGED, the only schemes Google's API text names for it, so elsewhere prefer GENERATED_COOKIE or STRONG_COOKIE_AFFINITY.",
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
            const scheme = kind.scheme;
            const hashable = takesConsistentHash(args.type, scheme);
            report(
                explain(args.type, args.name, {
                    property: "localityLbPolicy",
                    found: `${show(policy)} with sessionAffinity ${String(affinity)} on ${describeKind(kind)}`,
                    required: accepted.join(" or "),
                    fix: !hashed
                        ? `set localityLbPolicy: "${pick}"`
                        : hashable
                          ? `set localityLbPolicy: "${pick}" and consistentHash, or use GENERATED_COOKIE`
                          : `set localityLbPolicy: "${pick}", or use GENERATED_COOKIE or STRONG_COOKIE_AFFINITY (Google's API text names consistentHash, where ${String(affinity)} takes its settings, only for INTERNAL_SELF_MANAGED and regional INTERNAL_MANAGED, not ${scheme})`,
                    why: hashed
                        ? `${String(affinity)} hashes on a cookie or header, which only a hashing locality policy reads`
                        : `the Compute API says session affinity settings do not take effect without a hashing locality policy, and this kind accepts only ${accepted.join(", ")} of them (gcpdiag lb/BP/2022_001 flags it for any affinity)`,
                }),
            );
        }
    }),
};
