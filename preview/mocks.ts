import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";

/** GCP collection names whose plural is not the type name plus "s". */
const COLLECTIONS: Record<string, string> = {
    URLMap: "urlMaps",
    SSLPolicy: "sslPolicies",
    RegionInstanceGroupManager: "instanceGroupManagers",
    RegionAutoscaler: "autoscalers",
    RegionNetworkEndpointGroup: "networkEndpointGroups",
    GlobalAddress: "addresses",
    GlobalForwardingRule: "forwardingRules",
    ManagedSslCertificate: "sslCertificates",
    Service: "services",
};

function shortHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 7);
}

/**
 * Mocks that behave like a provider: each resource's state is its inputs plus a deterministic
 * auto-name, id and self link, so two runs of the same stack agree. With `unknownAtPreview` they
 * behave as the engine does at preview for a new stack: only inputs and the auto-name are known.
 */
export function offlineMocks(gcpProject: string, options: { unknownAtPreview?: boolean } = {}): pulumi.runtime.Mocks {
    let addressCount = 0;
    return {
        newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
            const inputs = args.inputs as Record<string, unknown>;
            if (args.custom === false) {
                return { id: undefined, state: inputs };
            }
            const typeName = args.type.split(":").pop() ?? args.type;
            const name =
                typeof inputs.name === "string" ? inputs.name : `${args.name}-${shortHash(args.type + args.name)}`;
            const collection = COLLECTIONS[typeName] ?? `${typeName[0].toLowerCase()}${typeName.slice(1)}s`;
            const location = inputs.region ?? inputs.location;
            const scope =
                typeof location === "string"
                    ? `${args.type.includes("cloudrunv2") ? "locations" : "regions"}/${location}`
                    : "global";
            if (options.unknownAtPreview) {
                // As `pulumi preview` shows a create: the provider's Check fills the auto-name and its
                // plan the default project, while the id and every other computed output stay
                // unknown until the resource exists.
                return { id: undefined, state: { ...inputs, name, project: inputs.project ?? gcpProject } };
            }
            const id = `projects/${gcpProject}/${scope}/${collection}/${name}`;
            const selfLink = `https://www.googleapis.com/compute/v1/${id}`;
            const state: Record<string, unknown> = { ...inputs, name, project: gcpProject, selfLink };
            switch (typeName) {
                case "GlobalAddress":
                    addressCount += 1;
                    state.address = `203.0.113.${addressCount}`;
                    break;
                case "RegionInstanceGroupManager":
                    state.instanceGroup = `https://www.googleapis.com/compute/v1/projects/${gcpProject}/${scope}/instanceGroups/${name}`;
                    break;
                case "InstanceTemplate":
                    state.selfLinkUnique = `${selfLink}?uniqueId=${shortHash(id)}`;
                    break;
                case "UptimeCheckConfig":
                    // Alert filters name the check by this provider-assigned id.
                    state.uptimeCheckId = `${name}-${shortHash(id)}`;
                    break;
                case "Service":
                    state.uri = `https://${name}-${shortHash(id)}.a.run.app`;
                    state.latestReadyRevision = `${name}-00001-${shortHash(id).slice(0, 3)}`;
                    break;
            }
            return { id, state };
        },
        call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
            if (args.token === "gcp:organizations/getProject:getProject") {
                // The alert routes' Pub/Sub grant names the project's Monitoring service agent by number.
                return { projectId: gcpProject, number: "000000000000", name: gcpProject };
            }
            throw new Error(
                `the offline preview has no answer for provider function ${args.token}; add one to preview/mocks.ts`,
            );
        },
    };
}
