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
}

/** A backend as it is written in config, before parsing: what a rollback edits and writes back. */
export type BackendConfig = Partial<
    Record<keyof InstanceGroupBackend | keyof GroupsBackend | keyof CloudRunBackend, unknown>
>;

/** Config keys (in the project's namespace) that other parts read or write. */
export const CONFIG_KEYS = { backends: "backends" } as const satisfies Record<string, keyof LoadBalancerSettings>;
