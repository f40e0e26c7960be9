import * as crypto from "crypto";

/** Where a resource lives in Google's resource names. */
type Scope = "global" | "region" | "location" | "project";

/** What the stand-in knows about one `gcp:` resource type. */
export interface TypeSpec {
    /** Collection in the id, as in the provider's import id formats. */
    readonly collection: string;
    readonly scope: Scope;
    /** The provider fills `name` when the program leaves it out (Pulumi auto-naming). */
    readonly autoName: boolean;
    /** Properties only the provider sets; a program never writes them, so Diff ignores them. */
    readonly computed: readonly string[];
    /** Inputs whose change the provider answers with a replacement. */
    readonly replaceOn: readonly string[];
    /** Compute API resources carry a selfLink. */
    readonly selfLink: boolean;
}

const COMPUTE_COMPUTED = ["selfLink", "creationTimestamp", "project"];

function compute(
    collection: string,
    scope: "global" | "region",
    extra: readonly string[] = [],
    replaceOn: readonly string[] = [],
): TypeSpec {
    return {
        collection,
        scope,
        autoName: true,
        computed: [...COMPUTE_COMPUTED, ...extra],
        replaceOn: ["name", "project", ...(scope === "region" ? ["region"] : []), ...replaceOn],
        selfLink: true,
    };
}

/** Every `gcp:` type the program declares (infra/), and nothing else: others are refused. */
export const TYPES: Readonly<Record<string, TypeSpec>> = {
    "gcp:compute/backendService:BackendService": compute(
        "backendServices",
        "global",
        ["generatedId", "fingerprint"],
        ["loadBalancingScheme"],
    ),
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": compute(
        "networkEndpointGroups",
        "region",
        [],
        ["networkEndpointType", "cloudRun"],
    ),
    "gcp:compute/healthCheck:HealthCheck": compute("healthChecks", "global", ["type"]),
    "gcp:compute/firewall:Firewall": compute("firewalls", "global", [], ["network", "direction"]),
    "gcp:compute/instanceTemplate:InstanceTemplate": compute(
        "instanceTemplates",
        "global",
        ["selfLinkUnique", "metadataFingerprint", "tagsFingerprint"],
        // Instance templates are immutable: every input change is a replacement.
        ["*"],
    ),
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": compute(
        "instanceGroupManagers",
        "region",
        ["instanceGroup", "fingerprint", "status"],
        ["baseInstanceName"],
    ),
    "gcp:compute/regionAutoscaler:RegionAutoscaler": compute("autoscalers", "region"),
    "gcp:compute/globalAddress:GlobalAddress": compute(
        "addresses",
        "global",
        ["address", "labelFingerprint"],
        ["addressType", "ipVersion"],
    ),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": compute(
        "sslCertificates",
        "global",
        ["certificateId", "subjectAlternativeNames", "expireTime"],
        ["managed", "type"],
    ),
    "gcp:compute/sSLPolicy:SSLPolicy": compute("sslPolicies", "global", ["fingerprint", "enabledFeatures"]),
    "gcp:compute/securityPolicy:SecurityPolicy": compute("securityPolicies", "global", ["fingerprint"]),
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": compute("targetHttpsProxies", "global", ["proxyId"]),
    "gcp:compute/targetHttpProxy:TargetHttpProxy": compute("targetHttpProxies", "global", ["proxyId"]),
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": compute(
        "forwardingRules",
        "global",
        ["pscConnectionId", "labelFingerprint"],
        ["target", "ipAddress", "portRange", "ipProtocol", "loadBalancingScheme"],
    ),
    "gcp:compute/uRLMap:URLMap": compute("urlMaps", "global", ["mapId", "fingerprint"]),
    "gcp:compute/router:Router": compute("routers", "region", [], ["network"]),
    "gcp:compute/subnetwork:Subnetwork": compute(
        "subnetworks",
        "region",
        ["gatewayAddress", "fingerprint"],
        ["network", "ipCidrRange"],
    ),
    "gcp:compute/routerNat:RouterNat": {
        collection: "routers",
        scope: "region",
        autoName: true,
        computed: ["project"],
        replaceOn: ["name", "project", "region", "router"],
        selfLink: false,
    },
    "gcp:serviceaccount/account:Account": {
        collection: "serviceAccounts",
        scope: "project",
        autoName: false,
        computed: ["project", "email", "uniqueId", "name", "member"],
        replaceOn: ["accountId", "project"],
        selfLink: false,
    },
    "gcp:storage/bucket:Bucket": {
        collection: "b",
        scope: "project",
        autoName: true,
        computed: ["project", "url", "selfLink", "effectiveLabels"],
        replaceOn: ["name", "project", "location"],
        selfLink: false,
    },
    "gcp:storage/bucketObject:BucketObject": {
        collection: "o",
        scope: "project",
        autoName: true,
        computed: ["project", "md5hash", "crc32c", "mediaLink", "outputName", "selfLink", "generation"],
        // Objects are immutable: new content is a new object.
        replaceOn: ["*"],
        selfLink: false,
    },
    "gcp:cloudfunctionsv2/function:Function": {
        collection: "functions",
        scope: "location",
        autoName: true,
        computed: ["project", "url", "state", "updateTime", "environment"],
        replaceOn: ["name", "project", "location"],
        selfLink: false,
    },
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": {
        collection: "uptimeCheckConfigs",
        scope: "project",
        autoName: false,
        computed: ["project", "name", "uptimeCheckId"],
        replaceOn: ["project", "syntheticMonitor"],
        selfLink: false,
    },
    "gcp:secretmanager/secretIamMember:SecretIamMember": {
        collection: "secretIamMembers",
        scope: "project",
        autoName: false,
        computed: ["project", "etag"],
        replaceOn: ["project", "secretId", "role", "member"],
        selfLink: false,
    },
    "gcp:pubsub/topic:Topic": {
        collection: "topics",
        scope: "project",
        autoName: true,
        computed: ["project"],
        replaceOn: ["name", "project"],
        selfLink: false,
    },
    "gcp:pubsub/topicIAMMember:TopicIAMMember": {
        collection: "topicIamMembers",
        scope: "project",
        autoName: false,
        computed: ["project", "etag"],
        replaceOn: ["project", "topic", "role", "member"],
        selfLink: false,
    },
    "gcp:projects/iAMMember:IAMMember": {
        collection: "iamMembers",
        scope: "project",
        autoName: false,
        computed: ["etag"],
        replaceOn: ["project", "role", "member", "condition"],
        selfLink: false,
    },
    "gcp:cloudrunv2/service:Service": {
        collection: "services",
        scope: "location",
        autoName: true,
        computed: [
            "project",
            "uri",
            "urls",
            "latestReadyRevision",
            "latestCreatedRevision",
            "generation",
            "observedGeneration",
            "uid",
            "etag",
            "reconciling",
            "createTime",
            "updateTime",
        ],
        replaceOn: ["name", "project", "location"],
        selfLink: false,
    },
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": {
        collection: "services",
        scope: "location",
        autoName: false,
        computed: ["project", "etag"],
        replaceOn: ["name", "project", "location", "role", "member"],
        selfLink: false,
    },
    // The load job (infra/load-test.ts): cloudrunv2/job.d.ts, storage/bucketIAMMember.d.ts.
    "gcp:cloudrunv2/job:Job": {
        collection: "jobs",
        scope: "location",
        autoName: true,
        computed: [
            "project",
            "uid",
            "etag",
            "generation",
            "observedGeneration",
            "reconciling",
            "executionCount",
            "createTime",
            "updateTime",
        ],
        replaceOn: ["name", "project", "location"],
        selfLink: false,
    },
    "gcp:storage/bucketIAMMember:BucketIAMMember": {
        collection: "bucketIamMembers",
        scope: "project",
        autoName: false,
        computed: ["etag"],
        replaceOn: ["bucket", "role", "member", "condition"],
        selfLink: false,
    },
    "gcp:logging/metric:Metric": {
        collection: "metrics",
        scope: "project",
        autoName: true,
        computed: ["project"],
        replaceOn: ["name", "project"],
        selfLink: false,
    },
    "gcp:monitoring/notificationChannel:NotificationChannel": {
        collection: "notificationChannels",
        scope: "project",
        autoName: false,
        computed: ["project", "name", "verificationStatus"],
        replaceOn: ["project", "type"],
        selfLink: false,
    },
    "gcp:monitoring/alertPolicy:AlertPolicy": {
        collection: "alertPolicies",
        scope: "project",
        autoName: false,
        computed: ["project", "name", "creationRecords"],
        replaceOn: ["project"],
        selfLink: false,
    },
    "gcp:monitoring/dashboard:Dashboard": {
        collection: "dashboards",
        scope: "project",
        autoName: false,
        computed: ["project"],
        replaceOn: ["project"],
        selfLink: false,
    },
};

export function hash(text: string, length = 7): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** A stable number from text, for the numeric ids Google gives some resources. */
export function numericId(text: string, digits = 16): string {
    return BigInt(`0x${hash(text, 15)}`)
        .toString()
        .padStart(digits, "1")
        .slice(0, digits);
}

/** The type token and the resource name of a URN (`urn:pulumi:stack::project::parent$type::name`). */
export function parseUrn(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    const qualified = parts[2] ?? "";
    return { type: qualified.split("$").pop() ?? qualified, name: parts.slice(3).join("::") };
}
