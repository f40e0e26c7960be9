import { ResourceValidationPolicy } from "@pulumi/policy";
import { schemeOf } from "../lib/backends";
import { forTypes } from "../lib/policy";
import { isSet } from "../lib/props";
import { explain } from "../lib/report";
import { T } from "../lib/types";

export const enforceCloudArmor: ResourceValidationPolicy = {
    name: "enforce-cloud-armor",
    description:
        "An EXTERNAL_MANAGED backend service should carry a Cloud Armor security policy, because without one nothing limits handshake floods or refuses upgrades from foreign origins before they reach the backends.",
    enforcementLevel: "advisory",
    severity: "high",
    remediationSteps:
        "Create a gcp.compute.SecurityPolicy of type CLOUD_ARMOR (the program does, from the cloudArmor config key) and set securityPolicy on every backend service; to make this rule block, configure its enforcementLevel to mandatory.",
    validateResource: forTypes([T.backendService], (args, report) => {
        if (schemeOf(args.props) !== "EXTERNAL_MANAGED") {
            args.notApplicable(
                "applies to EXTERNAL_MANAGED backend services (the global external Application Load Balancer)",
            );
        }
        // An unknown reference (a policy created in the same update) counts as set.
        if (!isSet(args.props, "securityPolicy")) {
            report(
                explain(args.type, args.name, {
                    property: "securityPolicy",
                    found: "unset (no Cloud Armor policy: every request reaches the backends)",
                    required: "a Cloud Armor security policy of type CLOUD_ARMOR",
                    fix: "attach the stack's security policy (cloudArmor config key), which rate-limits handshakes per client IP and checks Origin on the WebSocket paths",
                    why: "Cloud Armor filters requests at Google's edge for every backend type behind this load balancer, serverless NEGs included (cloud.google.com/armor/docs/security-policy-overview)",
                }),
            );
        }
    }),
};
