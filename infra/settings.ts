// Types only: the offline preview reads this file before it loads the SDK (its pack starts first).
import type * as pulumi from "@pulumi/pulumi";
import { EgressMode, LoadBalancingScheme, RateLimitAction } from "../policies/facts";
import type { AlertRoutes } from "./alert-routes";
import type { ServiceEnv } from "./service-env";

// The program's settings: one typed, frozen object that infra/config.ts builds from the stack's
// config. Other parts import these types (the deploy pipeline's rollback edits `backends`), so a
// rename breaks their build instead of their behaviour.

/**
 * Affinities this program can configure on its own (no consistentHash block needed) that an
 * HTTP(S) load balancer accepts: CLIENT_IP_PROTO and CLIENT_IP_PORT_PROTO are refused there.
 */
export const PROGRAM_AFFINITIES = ["NONE", "CLIENT_IP", "GENERATED_COOKIE", "STRONG_COOKIE_AFFINITY"] as const;
export type ProgramAffinity = (typeof PROGRAM_AFFINITIES)[number];

export interface HeaderSetting {
    readonly name: string;
    readonly value: string;
    readonly replace: boolean;
}

interface BackendCommon {
    /** Config map key; also the stem of every resource name for this backend. */
    readonly name: string;
    /** Paths routed to this backend besides the WebSocket paths. */
    readonly paths: readonly string[];
    /** The WebSocket backend also serves `websocketPaths` and the default route. */
    readonly websocket: boolean;
}

/** `env` and `secretEnv` (infra/service-env.ts): on backends that run our container. */
export interface InstanceGroupBackend extends BackendCommon, ServiceEnv {
    readonly kind: "instanceGroup";
    readonly image: string;
    readonly region: string;
    readonly machineType: string;
    readonly port: number;
    readonly healthCheckPath: string;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly targetCpuUtilization: number;
    /**
     * The autoscaler's scaleInControl: at most this many VMs removed within scaleInWindowSec
     * (0: it never scales in), so a quieter hour does not cut the day-long sockets of many VMs at once.
     */
    readonly scaleInMaxReplicas: number;
    readonly scaleInWindowSec: number;
    readonly maxRatePerInstance: number;
    /** Existing VPC network: a name, or a self link for a shared VPC host project's network. */
    readonly network: string;
    /** Existing subnet (name or self link); empty: the network's own subnet in the region, or the one the stack creates. */
    readonly subnetwork: string;
    /** How instances without external IPs reach Artifact Registry. */
    readonly egress: EgressMode;
    /** Range of the subnet the stack creates when egress is privateGoogleAccess. */
    readonly subnetCidr: string;
    /** Zones the regional group spreads over (`distributionPolicyZones`); the surge equals their count. */
    readonly zones: readonly string[];
}

export interface GroupsBackend extends BackendCommon {
    readonly kind: "groups";
    /** Self links of existing instance groups or zonal NEGs. */
    readonly groups: readonly string[];
    readonly port: number;
    readonly portName: string;
    readonly healthCheckPath: string;
    readonly maxRatePerEndpoint: number;
}

export interface CloudRunBackend extends BackendCommon, ServiceEnv {
    readonly kind: "cloudRun";
    readonly image: string;
    readonly region: string;
    readonly requestTimeoutSec: number;
    readonly minInstances: number;
    readonly maxInstances: number;
    readonly port: number;
    /** Send all traffic to this revision (set by a rollback); unset sends it to the latest. */
    readonly pinnedRevision?: string;
}

export type BackendSettings = InstanceGroupBackend | GroupsBackend | CloudRunBackend;
export const BACKEND_KINDS = ["instanceGroup", "groups", "cloudRun"] as const;

/**
 * The fields a backend of each kind may set in config (its name is the map key, not a field).
 * Config parsing refuses any other, so a typo such as `machineTyp` is an error instead of a
 * silent default. The type below makes the build fail when a list and its interface drift apart.
 */
export const BACKEND_FIELDS = {
    instanceGroup: [
        "kind",
        "paths",
        "websocket",
        "image",
        "region",
        "machineType",
        "port",
        "healthCheckPath",
        "minReplicas",
        "maxReplicas",
        "targetCpuUtilization",
        "scaleInMaxReplicas",
        "scaleInWindowSec",
        "maxRatePerInstance",
        "network",
        "subnetwork",
        "egress",
        "subnetCidr",
        "zones",
        "env",
        "secretEnv",
    ],
    groups: ["kind", "paths", "websocket", "groups", "port", "portName", "healthCheckPath", "maxRatePerEndpoint"],
    cloudRun: [
        "kind",
        "paths",
        "websocket",
        "image",
        "region",
        "requestTimeoutSec",
        "minInstances",
        "maxInstances",
        "port",
        "pinnedRevision",
        "env",
        "secretEnv",
    ],
} as const satisfies {
    [K in BackendSettings["kind"]]: ReadonlyArray<Exclude<keyof Extract<BackendSettings, { kind: K }>, "name">>;
};
/** Compile-time: every field of each kind's interface is listed (an unlisted one makes this `never`-mismatch fail). */
type Unlisted<K extends BackendSettings["kind"]> = Exclude<
    keyof Extract<BackendSettings, { kind: K }>,
    "name" | (typeof BACKEND_FIELDS)[K][number]
>;
const everyFieldListed: { [K in BackendSettings["kind"]]: [Unlisted<K>] extends [never] ? true : Unlisted<K> } = {
    instanceGroup: true,
    groups: true,
    cloudRun: true,
};
void everyFieldListed;

/**
 * Project config keys the program reads that Pulumi.yaml does not declare: a secret set only with
 * `pulumi config set --secret`, which has no default to declare. Every other key comes from
 * Pulumi.yaml's `config:` block, read at run time, so a key added there is known at once.
 */
export const UNDECLARED_CONFIG_KEYS = ["pagingWebhookToken", "pagerDutyServiceKeys"] as const;

export interface MonitoringSettings {
    readonly alertEmails: readonly string[];
    /** Paging webhook (basic auth); empty for none. */
    readonly pagingWebhookUrl: string;
    /** Its token, a Pulumi secret (read with getSecret, never in plain text). */
    readonly pagingWebhookToken?: pulumi.Output<string>;
    readonly alert5xxPercent: number;
    readonly alertHandshakeFailurePercent: number;
    readonly alertConnectionFailurePercent: number;
    /** Requests a minute ending in statusDetails backend_timeout that alert after 5 minutes. */
    readonly alertTimeoutErrorsPerMinute: number;
    /** Channels per team (infra/alert-routes.ts); empty: every alert goes to alertEmails and the webhook. */
    readonly alertRoutes: AlertRoutes;
    /** Team to PagerDuty service key, a Pulumi secret (read with getSecretObject, never in plain text). */
    readonly pagerDutyServiceKeys?: pulumi.Output<Record<string, string>>;
}

/** Uptime check periods Cloud Monitoring accepts (uptimeCheckConfig.d.ts, period). */
export const SYNTHETIC_PERIODS_SEC = [60, 300, 600, 900] as const;

/** The chat checks run every period by Cloud Monitoring (infra/synthetic-monitor.ts). */
export interface SyntheticMonitorSettings {
    readonly enabled: boolean;
    readonly periodSec: (typeof SYNTHETIC_PERIODS_SEC)[number];
    /** Region of the function and its source bucket. */
    readonly region: string;
    /** Scenario file, relative to the project directory. */
    readonly scenario: string;
    /** Secret Manager secret whose latest version the function reads as CHAT_TOKEN; empty for none. */
    readonly tokenSecret: string;
}

/** The handshake rate limit per client IP on the WebSocket paths (infra/security.ts). */
export interface HandshakeRateLimit {
    readonly count: number;
    readonly intervalSec: number;
    readonly action: RateLimitAction;
    /** rate_based_ban only: how long a client stays banned once over the limit. */
    readonly banDurationSec: number;
    /** The status a refused handshake gets: deny(STATUS). */
    readonly exceedStatus: number;
}

/** The Cloud Armor policy every backend service carries (infra/security.ts). */
export interface CloudArmorSettings {
    readonly enabled: boolean;
    /** Origins (scheme://host[:port]) a browser may open a WebSocket from; default: https:// of each domain. */
    readonly allowedOrigins: readonly string[];
    /** Upgrades without an Origin header (non-browser clients) pass; false refuses them too. */
    readonly allowMissingOrigin: boolean;
    readonly handshakeRateLimit: HandshakeRateLimit;
    /** Preconfigured WAF rule sets, evaluated on every path but the WebSocket paths. */
    readonly wafRules: readonly string[];
    /** Every rule only logs what it would do: for rolling the policy out, never for keeping. */
    readonly preview: boolean;
    readonly adaptiveProtection: boolean;
}

/** CPU limits a Cloud Run job's container takes (types/input.d.ts, cloudrunv2.JobTemplateTemplateContainerResources). */
export const LOAD_TEST_CPUS = ["1", "2", "4", "6", "8"] as const;

/** The load job npm run load runs (infra/load-test.ts). */
export interface LoadTestSettings {
    readonly enabled: boolean;
    /** The image built from validator/Dockerfile. */
    readonly image: string;
    /** Region of the job and its bucket. */
    readonly region: string;
    readonly cpu: (typeof LOAD_TEST_CPUS)[number];
    readonly memoryMiB: number;
    /** The bucket's lifecycle rule deletes shards older than this. */
    readonly shardRetentionDays: number;
}

export interface LoadBalancerSettings {
    readonly backendTimeoutSec: number;
    readonly sessionAffinity: ProgramAffinity;
    readonly sessionAffinityTtlSec: number;
    /** 0: no route timeout, the backend's timeoutSec applies. */
    readonly websocketTimeoutSec: number;
    /** Route timeout of every non-WebSocket rule and the default route; 0: none. */
    readonly httpTimeoutSec: number;
    /** Cloud Run services refuse deletion while true. */
    readonly deletionProtection: boolean;
    readonly websocketPaths: readonly string[];
    readonly domains: readonly string[];
    readonly loadBalancingScheme: LoadBalancingScheme;
    readonly connectionDrainingTimeoutSec: number;
    readonly requestHeaders: readonly HeaderSetting[];
    readonly backends: readonly BackendSettings[];
    readonly monitoring: MonitoringSettings;
    readonly syntheticMonitor: SyntheticMonitorSettings;
    readonly cloudArmor: CloudArmorSettings;
    readonly loadTest: LoadTestSettings;
}

/** A backend as it is written in config, before parsing: what a rollback edits and writes back. */
export type BackendConfig = Partial<
    Record<keyof InstanceGroupBackend | keyof GroupsBackend | keyof CloudRunBackend, unknown>
>;

/** Config keys (in the project's namespace) that other parts read or write. */
export const CONFIG_KEYS = { backends: "backends" } as const satisfies Record<string, keyof LoadBalancerSettings>;

// The component's arguments, as another program passes them (a Pulumi YAML program through the
// component package, or TypeScript). They mirror the stack's config keys one for one, and are
// typed only with what Pulumi's schema inference (@pulumi/pulumi/provider/experimental) can
// describe: no unions but enumerations written as `as const` objects, mutable arrays, string-keyed
// maps, interfaces. infra/component-args.ts validates them with the stack's own config checks.

/** Session affinity of the non-serverless backend services. */
export const SessionAffinity = {
    NONE: "NONE",
    CLIENT_IP: "CLIENT_IP",
    GENERATED_COOKIE: "GENERATED_COOKIE",
    STRONG_COOKIE_AFFINITY: "STRONG_COOKIE_AFFINITY",
} as const;
export type SessionAffinity = (typeof SessionAffinity)[keyof typeof SessionAffinity];

/** EXTERNAL_MANAGED: global external Application Load Balancer; EXTERNAL: the classic one. */
export const LoadBalancingSchemeArg = {
    EXTERNAL_MANAGED: "EXTERNAL_MANAGED",
    EXTERNAL: "EXTERNAL",
} as const;
export type LoadBalancingSchemeArg = (typeof LoadBalancingSchemeArg)[keyof typeof LoadBalancingSchemeArg];

/** What runs a backend: a managed instance group, existing groups or NEGs, or a Cloud Run service. */
export const BackendKind = {
    instanceGroup: "instanceGroup",
    groups: "groups",
    cloudRun: "cloudRun",
} as const;
export type BackendKind = (typeof BackendKind)[keyof typeof BackendKind];

/** How instances without external IPs reach Artifact Registry. */
export const Egress = { nat: "nat", privateGoogleAccess: "privateGoogleAccess", none: "none" } as const;
export type Egress = (typeof Egress)[keyof typeof Egress];

// Plain `as const` objects (schema inference reads no `satisfies`); these hold each one to the
// settings type it stands for, so the build fails when a value is added to one and not the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const enumsMatch: [
    Same<SessionAffinity, ProgramAffinity>,
    Same<LoadBalancingSchemeArg, LoadBalancingScheme>,
    Same<BackendKind, BackendSettings["kind"]>,
    Same<Egress, EgressMode>,
] = [true, true, true, true];
void enumsMatch;

/** A header the URL map adds to every request. */
export interface RequestHeaderArgs {
    name: string;
    value: string;
    /** true overwrites a header already on the request. */
    replace: boolean;
}

/** A Secret Manager reference a backend reads into an environment variable. */
export interface SecretRefArgs {
    /** Secret id in this project, or projects/P/secrets/S. */
    secret: string;
    /** "latest" or a version number; default latest. */
    version?: string;
}

/**
 * One backend. `kind` decides which of the other fields apply (see docs/configuration.md); a
 * field of another kind is refused, as in the stack's config.
 */
export interface BackendArgs {
    kind: BackendKind;
    /** Paths routed to this backend besides the WebSocket paths. */
    paths?: string[];
    /** Exactly one backend sets true: it also serves websocketPaths and the default route. */
    websocket?: boolean;
    image?: string;
    region?: string;
    port?: number;
    healthCheckPath?: string;
    machineType?: string;
    minReplicas?: number;
    maxReplicas?: number;
    targetCpuUtilization?: number;
    maxRatePerInstance?: number;
    network?: string;
    subnetwork?: string;
    egress?: Egress;
    subnetCidr?: string;
    zones?: string[];
    groups?: string[];
    portName?: string;
    maxRatePerEndpoint?: number;
    requestTimeoutSec?: number;
    minInstances?: number;
    maxInstances?: number;
    pinnedRevision?: string;
    /** Plain environment variables of the container. */
    env?: Record<string, string>;
    /** Environment variables read from Secret Manager. */
    secretEnv?: Record<string, SecretRefArgs>;
}

/** The chat checks Cloud Monitoring runs every period. */
export interface SyntheticMonitorArgs {
    /** Default true when the block is given. */
    enabled?: boolean;
    /** 60, 300, 600 or 900. */
    periodSec?: number;
    region?: string;
    scenario?: string;
    tokenSecret?: string;
}

/**
 * Arguments of the WebSocketLoadBalancer component: the stack's config keys, with the same
 * defaults (Pulumi.yaml) and the same checks. Only `domains` and `backends` are required.
 */
export interface WebSocketLoadBalancerArgs {
    /** Host names served over HTTPS with a Google-managed certificate. */
    domains: string[];
    /** Backend name to its settings; exactly one sets websocket: true. */
    backends: Record<string, BackendArgs>;
    /** timeoutSec of every non-serverless backend service: a WebSocket's longest life (1 to 86400). */
    backendTimeoutSec?: number;
    sessionAffinity?: SessionAffinity;
    /** Affinity cookie lifetime in seconds (0 is a session cookie). */
    sessionAffinityTtlSec?: number;
    /** Route timeout of the WebSocket paths; 0: none, the backend's timeoutSec applies. */
    websocketTimeoutSec?: number;
    /** Route timeout of every other path and the default route; 0: none. */
    httpTimeoutSec?: number;
    /** Cloud Run services refuse deletion while true. */
    deletionProtection?: boolean;
    /** URL-map paths routed to the WebSocket backend. */
    websocketPaths?: string[];
    loadBalancingScheme?: LoadBalancingSchemeArg;
    /** Seconds open connections may finish on a backend being removed (0 to 3600). */
    connectionDrainingTimeoutSec?: number;
    requestHeaders?: RequestHeaderArgs[];
    /** Email addresses that receive the alerts. */
    alertEmails?: string[];
    /** https URL of a paging webhook; empty for none. */
    pagingWebhookUrl?: string;
    /** The paging webhook's token; pass it as a secret. */
    pagingWebhookToken?: pulumi.Input<string>;
    alert5xxPercent?: number;
    alertHandshakeFailurePercent?: number;
    alertConnectionFailurePercent?: number;
    alertTimeoutErrorsPerMinute?: number;
    /** Team (operations, infrastructure, business) to its channels: "email:ADDRESS", "webhook", "pagerduty", "pubsub". */
    alertRoutes?: Record<string, string[]>;
    /** Team to PagerDuty service key; pass it as a secret. */
    pagerDutyServiceKeys?: pulumi.Input<Record<string, string>>;
    syntheticMonitor?: SyntheticMonitorArgs;
}
