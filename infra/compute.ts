import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import * as projects from "@pulumi/gcp/projects";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import {
    artifactRegistryProject,
    regionalSurge,
    serviceAccountEmail,
    VM_SCOPES,
    VM_SERVICE_ACCOUNT_ROLES,
} from "../policies/facts";
import { BackendNetwork } from "./egress";
import { grantSecretAccess, ServiceEnv, vmEnvScript } from "./service-env";
import { GroupsBackend, InstanceGroupBackend } from "./settings";

/** Where Google's front ends and health checkers connect from (load balancing firewall docs). */
const GOOGLE_PROXY_RANGES: readonly string[] = ["130.211.0.0/22", "35.191.0.0/16"];
/** The named port the backend services use on instance groups. */
const SERVING_PORT_NAME = "http";

export interface BackendGroups {
    /** What the backend service's `backends[].group` entries point at. */
    readonly groups: pulumi.Input<string>[];
    readonly healthCheck: compute.HealthCheck;
    /** NEG endpoints are rated per endpoint, instance groups per instance. */
    readonly rate: { maxRatePerInstance: number } | { maxRatePerEndpoint: number };
    readonly portName?: string;
}

function healthCheck(
    name: string,
    path: string,
    port: number | "serving",
    parent: pulumi.Resource,
): compute.HealthCheck {
    return new compute.HealthCheck(
        name,
        {
            description: `HTTP health check on ${path}`,
            checkIntervalSec: 10,
            timeoutSec: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 3,
            httpHealthCheck:
                port === "serving"
                    ? { portSpecification: "USE_SERVING_PORT", requestPath: path }
                    : { port, requestPath: path },
            logConfig: { enable: true },
        },
        { parent },
    );
}

/** Where the unit's env file lives: tmpfs, so secrets read at start never touch the disk. */
const VM_ENV_FILE = "/run/websocket-app/env";

/**
 * cloud-init for Container-Optimized OS: run the image as a systemd unit that restarts on failure.
 * Before each start the unit writes its env file (plain values, and secrets read with the VM's
 * service account; see vmEnvScript), and docker passes it to the container.
 */
function containerCloudInit(image: string, port: number, env: ServiceEnv = { env: {}, secretEnv: {} }): string {
    const registry = image.split("/")[0];
    const script = vmEnvScript(env, VM_ENV_FILE);
    return [
        "#cloud-config",
        "write_files:",
        "  - path: /etc/websocket-app/prepare-env.sh",
        '    permissions: "0700"',
        "    owner: root",
        "    content: |",
        ...script.map((line) => `      ${line}`),
        "  - path: /etc/systemd/system/websocket-app.service",
        '    permissions: "0644"',
        "    owner: root",
        "    content: |",
        "      [Unit]",
        "      Description=WebSocket application container",
        "      Wants=network-online.target docker.socket",
        "      After=network-online.target docker.socket",
        "      [Service]",
        "      Environment=HOME=/home/chronos",
        `      ExecStartPre=/usr/bin/docker-credential-gcr configure-docker --registries ${registry}`,
        "      ExecStartPre=/bin/bash /etc/websocket-app/prepare-env.sh",
        `      ExecStart=/usr/bin/docker run --rm --name websocket-app --env-file ${VM_ENV_FILE} -p ${port}:${port} ${image}`,
        "      ExecStop=/usr/bin/docker stop websocket-app",
        "      Restart=always",
        "      RestartSec=5",
        "runcmd:",
        "  - systemctl daemon-reload",
        "  - systemctl start websocket-app.service",
        "",
    ].join("\n");
}

interface VmIdentity {
    readonly account: serviceaccount.Account;
    readonly email: pulumi.Output<string>;
    readonly bindings: projects.IAMMember[];
}

/**
 * A service account of the backend's own with exactly the roles its VMs use: the default compute
 * account may hold none of them in newer organisations, or far too many in older ones. The image's
 * project, when it is an Artifact Registry path, is where the reader role is granted.
 */
function createVmIdentity(name: string, backend: InstanceGroupBackend, parent: pulumi.Resource): VmIdentity {
    const accountId = `lb-${backend.name}-vm`;
    const account = new serviceaccount.Account(
        `${name}-vm`,
        {
            accountId,
            displayName: `${backend.name} load balancer VMs`,
            description: `Runs ${backend.image}: pulls it, writes logs and metrics`,
        },
        { parent },
    );
    const email = account.project.apply((project) => serviceAccountEmail(accountId, project));
    const member = pulumi.interpolate`serviceAccount:${email}`;
    const registryProject = artifactRegistryProject(backend.image);
    const bindings = VM_SERVICE_ACCOUNT_ROLES.map(
        (role) =>
            new projects.IAMMember(
                `${name}-vm-${role
                    .replace(/^roles\//, "")
                    .replace(/\./g, "-")
                    .toLowerCase()}`,
                {
                    project:
                        role === "roles/artifactregistry.reader" && registryProject ? registryProject : account.project,
                    role,
                    member,
                },
                { parent },
            ),
    );
    return { account, email, bindings };
}

/**
 * Compute for an `instanceGroup` backend: a Container-Optimized OS template running the image as
 * its own service account, a regional managed instance group pinned to its zones with autoscaling
 * and the named port, its health check, and the firewall rule that lets Google's proxies and
 * health checkers in.
 */
export function createInstanceGroup(
    name: string,
    backend: InstanceGroupBackend,
    network: BackendNetwork,
    parent: pulumi.Resource,
): BackendGroups {
    const networkTag = `${name}-serving`;
    const identity = createVmIdentity(name, backend, parent);
    const check = healthCheck(`${name}-hc`, backend.healthCheckPath, backend.port, parent);

    new compute.Firewall(
        `${name}-allow-google-proxies`,
        {
            description: "Google front ends and health checkers reach the serving port",
            network: backend.network,
            direction: "INGRESS",
            sourceRanges: [...GOOGLE_PROXY_RANGES],
            targetTags: [networkTag],
            allows: [{ protocol: "tcp", ports: [String(backend.port)] }],
        },
        { parent },
    );

    // With secretEnv, the VMs' own account is allowed to read exactly those secrets.
    const secretGrants = grantSecretAccess(`${name}-vm`, backend, identity.email, parent);
    const template = new compute.InstanceTemplate(
        `${name}-template`,
        {
            description: `Container-Optimized OS running ${backend.image}`,
            machineType: backend.machineType,
            region: backend.region,
            tags: [networkTag],
            disks: [
                { sourceImage: "projects/cos-cloud/global/images/family/cos-stable", autoDelete: true, boot: true },
            ],
            // No accessConfigs: no external IP. Egress to the registry is Cloud NAT or Private Google Access.
            networkInterfaces: [{ network: backend.network, subnetwork: network.subnetwork }],
            metadata: {
                "user-data": containerCloudInit(backend.image, backend.port, backend),
                "google-logging-enabled": "true",
            },
            serviceAccount: { email: identity.email, scopes: [...VM_SCOPES] },
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        },
        { parent, dependsOn: [...identity.bindings, ...secretGrants] },
    );

    const group = new compute.RegionInstanceGroupManager(
        `${name}-mig`,
        {
            region: backend.region,
            baseInstanceName: name,
            versions: [{ name: "primary", instanceTemplate: template.selfLinkUnique }],
            namedPorts: [{ name: SERVING_PORT_NAME, port: backend.port }],
            autoHealingPolicies: { healthCheck: check.id, initialDelaySec: 120 },
            // Pinned so the surge below is known: a regional group's fixed surge must be 0 or at least its zone count.
            distributionPolicyZones: [...backend.zones],
            // Surge before removing, never drop capacity: open WebSockets drain off old instances.
            // NONE: the group never deletes a VM just to even out its zones (PROACTIVE, the
            // default, does), which would cut every socket it holds.
            updatePolicy: {
                instanceRedistributionType: "NONE",
                type: "PROACTIVE",
                minimalAction: "REPLACE",
                replacementMethod: "SUBSTITUTE",
                maxSurgeFixed: regionalSurge(backend.zones),
                maxUnavailableFixed: 0,
            },
        },
        { parent },
    );

    createAutoscaler(name, backend, group, parent);

    return {
        groups: [group.instanceGroup],
        healthCheck: check,
        rate: { maxRatePerInstance: backend.maxRatePerInstance },
        portName: SERVING_PORT_NAME,
    };
}

/**
 * The group's autoscaler, on CPU. Each VM it removes cuts the sockets it holds once connection
 * draining ends, so scale-in is throttled (scaleInControl, from config).
 */
function createAutoscaler(
    name: string,
    backend: InstanceGroupBackend,
    group: compute.RegionInstanceGroupManager,
    parent: pulumi.Resource,
): compute.RegionAutoscaler {
    return new compute.RegionAutoscaler(
        `${name}-autoscaler`,
        {
            region: backend.region,
            target: group.id,
            autoscalingPolicy: {
                minReplicas: backend.minReplicas,
                maxReplicas: backend.maxReplicas,
                cooldownPeriod: 120,
                cpuUtilization: { target: backend.targetCpuUtilization },
                scaleInControl: {
                    maxScaledInReplicas: { fixed: backend.scaleInMaxReplicas },
                    timeWindowSec: backend.scaleInWindowSec,
                },
            },
        },
        { parent },
    );
}

/** A `groups` backend: existing instance groups or zonal NEGs (GKE standalone NEGs) and a health check. */
export function useExistingGroups(name: string, backend: GroupsBackend, parent: pulumi.Resource): BackendGroups {
    const negs = backend.groups.some((link) => link.includes("/networkEndpointGroups/"));
    return {
        groups: [...backend.groups],
        healthCheck: healthCheck(`${name}-hc`, backend.healthCheckPath, negs ? "serving" : backend.port, parent),
        rate: negs
            ? { maxRatePerEndpoint: backend.maxRatePerEndpoint }
            : { maxRatePerInstance: backend.maxRatePerEndpoint },
        portName: negs ? undefined : backend.portName,
    };
}
