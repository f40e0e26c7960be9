import * as pulumi from "@pulumi/pulumi";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as compute from "@pulumi/gcp/compute";
import { cloudRunEnvs, secretReader } from "./service-env";
import { CloudRunBackend } from "./settings";

export interface ServerlessBackend {
    readonly service: cloudrunv2.Service;
    readonly neg: compute.RegionNetworkEndpointGroup;
}

/**
 * A Cloud Run service reachable only through the load balancer, behind a serverless NEG.
 * Stickiness is Cloud Run's own session affinity: the load balancer's is not supported on
 * serverless NEGs (cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts).
 */
export function createCloudRunBackend(
    name: string,
    backend: CloudRunBackend,
    deletionProtection: boolean,
    parent: pulumi.Resource,
): ServerlessBackend {
    // Its own identity when it reads secrets, allowed exactly those; else Cloud Run's default.
    const reader = secretReader(`${name}-run`, backend, parent);
    const service = new cloudrunv2.Service(
        `${name}-run`,
        {
            location: backend.region,
            // The provider defaults to true, which makes `pulumi destroy` of a staging stack fail.
            deletionProtection,
            ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            template: {
                // A WebSocket is one request: it ends at this timeout.
                timeout: `${backend.requestTimeoutSec}s`,
                sessionAffinity: true,
                scaling: { minInstanceCount: backend.minInstances, maxInstanceCount: backend.maxInstances },
                serviceAccount: reader?.account.email,
                containers: [
                    { image: backend.image, ports: { containerPort: backend.port }, envs: cloudRunEnvs(backend) },
                ],
            },
            // A rollback pins the revision that served before the failed deploy.
            traffics: backend.pinnedRevision
                ? [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: backend.pinnedRevision, percent: 100 }]
                : [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
        },
        // "During service deployment, Cloud Run checks all the secrets you use" against the
        // account that runs the container (https://cloud.google.com/run/docs/configuring/services/secrets,
        // "How secrets are checked"): the grants come first, not only the account.
        { parent, dependsOn: reader ? [reader.account, ...reader.grants] : [] },
    );

    // Requests arrive through the load balancer without Google identity tokens.
    new cloudrunv2.ServiceIamMember(
        `${name}-invoker`,
        { name: service.name, location: backend.region, role: "roles/run.invoker", member: "allUsers" },
        { parent },
    );

    const neg = new compute.RegionNetworkEndpointGroup(
        `${name}-neg`,
        { region: backend.region, networkEndpointType: "SERVERLESS", cloudRun: { service: service.name } },
        { parent },
    );
    return { service, neg };
}
