import * as pulumi from "@pulumi/pulumi";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as compute from "@pulumi/gcp/compute";
import { AFFINITY_LOCALITY_POLICY, LOCALITY_POLICY_SCHEMES, TTL_COOKIE_AFFINITIES } from "../policies/facts";
import { createCloudRunBackend } from "./cloudrun";
import { BackendGroups, createInstanceGroup, useExistingGroups } from "./compute";
import { createEgress } from "./egress";
import { BackendSettings, InstanceGroupBackend, LoadBalancerSettings } from "./settings";

export interface Backend {
    readonly settings: BackendSettings;
    readonly service: compute.BackendService;
    readonly cloudRunService?: cloudrunv2.Service;
}

const LOGGING = { enable: true, sampleRate: 1.0 };

/** Timeout, affinity and draining: what keeps a WebSocket open on a non-serverless backend. */
function websocketHoldingArgs(settings: LoadBalancerSettings): Partial<compute.BackendServiceArgs> {
    const affinity = settings.sessionAffinity;
    return {
        // For WebSockets this is the connection's whole lifetime, not an idle timeout.
        timeoutSec: settings.backendTimeoutSec,
        sessionAffinity: affinity,
        affinityCookieTtlSec: TTL_COOKIE_AFFINITIES.includes(affinity) ? settings.sessionAffinityTtlSec : undefined,
        strongSessionAffinityCookie:
            affinity === "STRONG_COOKIE_AFFINITY"
                ? { name: "lb-affinity", path: "/", ttl: { seconds: settings.sessionAffinityTtlSec } }
                : undefined,
        // Any affinity but NONE takes effect only with a hashing locality policy (gcpdiag lb/BP/2022_001);
        // the classic scheme takes no locality policy, so there affinity stays as the API applies it.
        localityLbPolicy:
            affinity !== "NONE" && LOCALITY_POLICY_SCHEMES.includes(settings.loadBalancingScheme)
                ? AFFINITY_LOCALITY_POLICY
                : undefined,
        connectionDrainingTimeoutSec: settings.connectionDrainingTimeoutSec,
    };
}

function groupBackendService(
    name: string,
    backend: BackendSettings,
    groups: BackendGroups,
    settings: LoadBalancerSettings,
    parent: pulumi.Resource,
    securityPolicy: pulumi.Input<string> | undefined,
): compute.BackendService {
    return new compute.BackendService(
        name,
        {
            description: `${backend.name} (${backend.kind})${backend.websocket ? ", WebSocket backend" : ""}`,
            protocol: "HTTP",
            loadBalancingScheme: settings.loadBalancingScheme,
            portName: groups.portName,
            healthChecks: groups.healthCheck.id,
            logConfig: LOGGING,
            securityPolicy,
            ...websocketHoldingArgs(settings),
            // RATE, not UTILIZATION: affinity with UTILIZATION breaks stickiness (gcpdiag lb/BP/2026_001).
            backends: groups.groups.map((group) => ({
                group,
                balancingMode: "RATE",
                capacityScaler: 1,
                ...groups.rate,
            })),
        },
        { parent },
    );
}

/**
 * One backend service per configured backend, with the compute or service behind it, each under
 * the stack's security policy: Cloud Armor protects serverless NEG backends too
 * (https://cloud.google.com/armor/docs/security-policy-overview).
 */
export function createBackends(
    name: string,
    settings: LoadBalancerSettings,
    parent: pulumi.Resource,
    securityPolicy?: pulumi.Input<string>,
): Backend[] {
    const egress = createEgress(
        name,
        settings.backends.filter((b): b is InstanceGroupBackend => b.kind === "instanceGroup"),
        parent,
    );
    return settings.backends.map((backend) => {
        const stem = `${name}-${backend.name}`;
        switch (backend.kind) {
            case "instanceGroup": {
                const groups = createInstanceGroup(stem, backend, egress.networks.get(backend.name) ?? {}, parent);
                return {
                    settings: backend,
                    service: groupBackendService(`${stem}-backend`, backend, groups, settings, parent, securityPolicy),
                };
            }
            case "groups":
                return {
                    settings: backend,
                    service: groupBackendService(
                        `${stem}-backend`,
                        backend,
                        useExistingGroups(stem, backend, parent),
                        settings,
                        parent,
                        securityPolicy,
                    ),
                };
            case "cloudRun": {
                const serverless = createCloudRunBackend(stem, backend, settings.deletionProtection, parent);
                // No timeoutSec (the API rejects it on serverless NEGs), no load balancer affinity
                // (unsupported there), no health check or balancing mode.
                const service = new compute.BackendService(
                    `${stem}-backend`,
                    {
                        description: `${backend.name} (cloudRun)`,
                        protocol: "HTTPS",
                        loadBalancingScheme: settings.loadBalancingScheme,
                        logConfig: LOGGING,
                        securityPolicy,
                        backends: [{ group: serverless.neg.id }],
                    },
                    { parent, dependsOn: [serverless.service] },
                );
                return { settings: backend, service, cloudRunService: serverless.service };
            }
        }
    });
}
