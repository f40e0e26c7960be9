import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    CLASSIC_AFFINITIES,
    CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
    EGRESS_MODES,
    headerNameProblem,
    HTTP_UNUSABLE_AFFINITIES,
    LOAD_BALANCING_SCHEMES,
    LoadBalancingScheme,
    MAX_AFFINITY_COOKIE_TTL_SEC,
    MAX_CONNECTION_DRAINING_SEC,
    RECOMMENDED_MAX_TIMEOUT_SEC,
    REGION_ZONES,
} from "../policies/facts";
import { didYouMean } from "../cli/suggest";
import { parseAlertRoutes } from "./alert-routes";
import { parseCloudArmor } from "./cloud-armor-config";
import { parseLoadTest } from "./load-test-config";
import { cidrRange, isRecord, parseJson, Validator } from "./config-checks";
import { parseServiceEnv } from "./service-env";
import {
    BACKEND_FIELDS,
    BACKEND_KINDS,
    BackendSettings,
    CloudRunBackend,
    GroupsBackend,
    HeaderSetting,
    InstanceGroupBackend,
    LoadBalancerSettings,
    MonitoringSettings,
    PROGRAM_AFFINITIES,
    ProgramAffinity,
    SYNTHETIC_PERIODS_SEC,
    SyntheticMonitorSettings,
    UNDECLARED_CONFIG_KEYS,
} from "./settings";

/**
 * A configuration mistake. It extends RunError so the Pulumi CLI prints the message
 * without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

/** Reads one raw config value (as `pulumi.Config` stores it: a string, JSON for structures). */
export type RawConfigReader = (key: string) => string | undefined;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const RESOURCE_STEM = /^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/;
const SELF_LINK =
    /^(https:\/\/www\.googleapis\.com\/compute\/v1\/)?projects\/[^/]+\/(zones|regions)\/[^/]+\/(instanceGroups|networkEndpointGroups)\/[^/]+$/;

const HEADER_KEYS = ["name", "value", "replace"];

function parseHeaders(v: Validator, key: string, value: unknown): HeaderSetting[] {
    if (!Array.isArray(value)) {
        v.fail(key, value, "allowed: a list of {name, value, replace}");
        return [];
    }
    const seen = new Set<string>();
    const headers: HeaderSetting[] = [];
    value.forEach((entry, i) => {
        const at = `${key}[${i}]`;
        if (isRecord(entry)) {
            // First, so a misspelled field is named as such rather than as a missing one.
            v.knownKeys(at, entry, HEADER_KEYS);
        }
        if (
            !isRecord(entry) ||
            typeof entry.name !== "string" ||
            typeof entry.value !== "string" ||
            typeof entry.replace !== "boolean"
        ) {
            v.fail(at, entry, "allowed: {name: string, value: string, replace: boolean}");
            return;
        }
        const problem = headerNameProblem(entry.name);
        if (problem) {
            v.fail(
                `${at}.name`,
                entry.name,
                `that header ${problem}; use an application header such as X-Forwarded-Proto`,
            );
        }
        if (seen.has(entry.name.toLowerCase())) {
            v.fail(`${at}.name`, entry.name, "that header is listed twice; the API rejects duplicate header names");
        }
        seen.add(entry.name.toLowerCase());
        headers.push({ name: entry.name, value: entry.value, replace: entry.replace });
    });
    return headers;
}

const SYNTHETIC_KEYS = ["enabled", "periodSec", "region", "scenario", "tokenSecret"];

/** `syntheticMonitor`: false (the default), true, or {enabled, periodSec, region, scenario, tokenSecret}. */
function parseSyntheticMonitor(
    v: Validator,
    key: string,
    value: unknown,
    backends: readonly BackendSettings[],
): SyntheticMonitorSettings {
    const spec = value === undefined || typeof value === "boolean" ? { enabled: value ?? false } : value;
    if (!isRecord(spec)) {
        v.fail(key, value, "allowed: true, false, or {enabled, periodSec, region, scenario, tokenSecret}");
        return { enabled: false, periodSec: 60, region: "us-central1", scenario: "", tokenSecret: "" };
    }
    v.knownKeys(key, spec, SYNTHETIC_KEYS);
    const enabled = spec.enabled ?? true;
    if (typeof enabled !== "boolean") {
        v.fail(`${key}.enabled`, enabled, "allowed: true or false");
    }
    const periodSec = optional(spec.periodSec, 60);
    if (!SYNTHETIC_PERIODS_SEC.includes(periodSec as (typeof SYNTHETIC_PERIODS_SEC)[number])) {
        v.fail(
            `${key}.periodSec`,
            periodSec,
            `allowed: ${SYNTHETIC_PERIODS_SEC.join(", ")} (the uptime check periods Cloud Monitoring accepts)`,
        );
    }
    const websocketRegion = backends.find((b) => b.websocket && b.kind !== "groups") as { region?: string } | undefined;
    const scenario = v.text(
        `${key}.scenario`,
        optional(spec.scenario, "validator/scenarios/chat.yaml"),
        "a scenario file in this project, such as validator/scenarios/chat.yaml",
        /\.(ya?ml|json)$/,
    );
    if (scenario && !fs.existsSync(path.resolve(__dirname, "..", scenario))) {
        v.fail(
            `${key}.scenario`,
            scenario,
            "no such file in the project; allowed: a path relative to the project directory",
        );
    }
    return {
        enabled: enabled === true,
        periodSec: periodSec as SyntheticMonitorSettings["periodSec"],
        region: v.text(
            `${key}.region`,
            optional(spec.region, websocketRegion?.region ?? "us-central1"),
            "a Cloud Functions region such as us-central1",
            /^[a-z]+-[a-z]+[0-9]+$/,
        ),
        scenario,
        tokenSecret:
            spec.tokenSecret === undefined
                ? ""
                : v.text(
                      `${key}.tokenSecret`,
                      spec.tokenSecret,
                      "a Secret Manager secret name (letters, digits, _ and -)",
                      /^[A-Za-z0-9_-]{1,255}$/,
                  ),
    };
}

function optional<T>(value: unknown, fallback: T): unknown {
    return value === undefined ? fallback : value;
}

/** Zones of a regional group: each in the region, listed once; by default three of the region's zones. */
function parseZones(v: Validator, key: string, value: unknown, region: string): string[] {
    if (value === undefined) {
        const known = REGION_ZONES[region];
        if (!known) {
            if (region) {
                v.fail(
                    key,
                    value,
                    `required for region ${region}, whose zones this program does not know; allowed: a list of zones of ${region}, such as ["${region}-a", "${region}-b", "${region}-c"] (zone letters differ per region)`,
                );
            }
            return [];
        }
        return known.slice(0, 3);
    }
    const zones = v.stringList(key, value, false);
    const seen = new Set<string>();
    for (const zone of zones) {
        if (!zone.startsWith(`${region}-`) || !/^[a-z]+-[a-z]+[0-9]+-[a-z]$/.test(zone)) {
            v.fail(key, zone, `allowed: zones of region ${region}, such as ${region}-b`);
        }
        if (seen.has(zone)) {
            v.fail(key, zone, "that zone is listed twice; list each zone once");
        }
        seen.add(zone);
    }
    return zones;
}

function parseInstanceGroupNetwork(v: Validator, at: string, spec: Record<string, unknown>) {
    const egress = v.oneOf(`${at}.egress`, optional(spec.egress, "nat"), EGRESS_MODES);
    const subnetwork =
        spec.subnetwork === undefined
            ? ""
            : v.text(`${at}.subnetwork`, spec.subnetwork, "an existing subnet's name or self link");
    const cidrAllowed = "an IPv4 range such as 10.200.0.0/24 (prefix /8 to /29)";
    const subnetCidr = v.text(`${at}.subnetCidr`, optional(spec.subnetCidr, "10.200.0.0/24"), cidrAllowed);
    const prefix = Number(subnetCidr.split("/")[1]);
    if (subnetCidr && (!cidrRange(subnetCidr) || prefix < 8 || prefix > 29)) {
        v.fail(`${at}.subnetCidr`, subnetCidr, `allowed: ${cidrAllowed}`);
    }
    if (egress === "privateGoogleAccess" && subnetwork) {
        v.fail(
            `${at}.subnetwork`,
            subnetwork,
            "egress privateGoogleAccess creates its own subnet with Private Google Access; to use an existing subnet, turn Private Google Access on for it and set egress none (or nat)",
        );
    }
    return {
        network: v.text(
            `${at}.network`,
            optional(spec.network, "default"),
            "an existing VPC network's name, or its self link for a shared VPC",
        ),
        subnetwork,
        egress,
        subnetCidr,
    };
}

/** Subnets the stack creates must not overlap within one network. */
function checkSubnetOverlaps(v: Validator, key: string, backends: readonly BackendSettings[]): void {
    const created = backends.filter(
        (b): b is InstanceGroupBackend => b.kind === "instanceGroup" && b.egress === "privateGoogleAccess",
    );
    created.forEach((a, i) => {
        for (const b of created.slice(i + 1)) {
            const [ra, rb] = [cidrRange(a.subnetCidr), cidrRange(b.subnetCidr)];
            if (a.network === b.network && ra && rb && ra[0] <= rb[1] && rb[0] <= ra[1]) {
                v.fail(
                    `${key}.${b.name}.subnetCidr`,
                    b.subnetCidr,
                    `that range overlaps ${a.name}'s ${a.subnetCidr} in network ${a.network}; allowed: a range that overlaps no other subnet`,
                );
            }
        }
    });
}

/** The affinity, refusing the API's values that HTTP(S) load balancing cannot use with their reason. */
function parseAffinity(v: Validator, key: string, value: unknown): ProgramAffinity {
    if (typeof value === "string" && HTTP_UNUSABLE_AFFINITIES.includes(value)) {
        v.fail(key, value, `HTTP(S) load balancers refuse it; allowed: ${PROGRAM_AFFINITIES.join(", ")}`);
        return "GENERATED_COOKIE";
    }
    return v.oneOf(key, value, PROGRAM_AFFINITIES);
}

type BackendCommonSettings = Pick<BackendSettings, "name" | "websocket" | "paths">;

/** The fields every kind shares; the unknown-field check needs the kind, so it runs here too. */
function parseBackendCommon(
    v: Validator,
    at: string,
    name: string,
    spec: Record<string, unknown>,
): { kind: BackendSettings["kind"]; common: BackendCommonSettings } {
    const kind = v.oneOf(`${at}.kind`, spec.kind, BACKEND_KINDS);
    if (kind !== undefined && (BACKEND_KINDS as readonly unknown[]).includes(spec.kind)) {
        const fields: readonly string[] = BACKEND_FIELDS[kind];
        for (const field of Object.keys(spec).filter((f) => !fields.includes(f))) {
            v.problems.push(
                `${at}.${field} is not a field of ${kind === "instanceGroup" ? "an" : "a"} ${kind} backend${didYouMean(field, fields)} (fields: ${fields.join(", ")})`,
            );
        }
    }
    const websocket = spec.websocket === undefined ? false : spec.websocket;
    if (typeof websocket !== "boolean") {
        v.fail(`${at}.websocket`, websocket, "allowed: true or false");
    }
    const common = {
        name,
        websocket: websocket === true,
        paths: v.paths(`${at}.paths`, optional(spec.paths, []), websocket === true),
    };
    return { kind, common };
}

function parseHealthCheckPath(v: Validator, at: string, spec: Record<string, unknown>): string {
    return v.text(`${at}.healthCheckPath`, optional(spec.healthCheckPath, "/healthz"), "a path starting with /", /^\//);
}

function parseInstanceGroupBackend(
    v: Validator,
    at: string,
    spec: Record<string, unknown>,
    common: BackendCommonSettings,
): InstanceGroupBackend {
    const minReplicas = v.integer(`${at}.minReplicas`, optional(spec.minReplicas, 2), 1, 1000);
    const region = v.text(
        `${at}.region`,
        spec.region,
        "a Compute Engine region such as us-central1",
        /^[a-z]+-[a-z]+[0-9]+$/,
    );
    return {
        ...common,
        kind: "instanceGroup",
        image: v.text(`${at}.image`, spec.image, "a container image reference"),
        region,
        machineType: v.text(
            `${at}.machineType`,
            optional(spec.machineType, "e2-standard-2"),
            "a machine type such as e2-standard-2",
        ),
        port: v.integer(`${at}.port`, optional(spec.port, 8080), 1, 65535),
        healthCheckPath: parseHealthCheckPath(v, at, spec),
        minReplicas,
        maxReplicas: v.integer(
            `${at}.maxReplicas`,
            optional(spec.maxReplicas, Math.max(minReplicas, 4)),
            minReplicas,
            1000,
            " and at least minReplicas",
        ),
        targetCpuUtilization: v.fraction(`${at}.targetCpuUtilization`, optional(spec.targetCpuUtilization, 0.6)),
        // One VM an hour by default: a VM holds day-long sockets, each removal cuts them.
        scaleInMaxReplicas: v.integer(`${at}.scaleInMaxReplicas`, optional(spec.scaleInMaxReplicas, 1), 0, 1000),
        // The window is the autoscaler's look-back; up to an hour (inferred from the console's scale-in controls).
        scaleInWindowSec: v.integer(`${at}.scaleInWindowSec`, optional(spec.scaleInWindowSec, 3600), 60, 3600),
        maxRatePerInstance: v.integer(
            `${at}.maxRatePerInstance`,
            optional(spec.maxRatePerInstance, 1000),
            1,
            1_000_000,
        ),
        ...parseInstanceGroupNetwork(v, at, spec),
        zones: parseZones(v, `${at}.zones`, spec.zones, region),
        ...parseServiceEnv(v, at, spec),
    };
}

function parseGroupsBackend(
    v: Validator,
    at: string,
    spec: Record<string, unknown>,
    common: BackendCommonSettings,
): GroupsBackend {
    for (const field of ["env", "secretEnv"]) {
        if (spec[field] !== undefined) {
            v.fail(
                `${at}.${field}`,
                spec[field],
                "groups backends run instances this stack does not manage; allowed: env and secretEnv on instanceGroup or cloudRun backends",
            );
        }
    }
    const groups = v.stringList(`${at}.groups`, spec.groups, false);
    for (const link of groups) {
        if (!SELF_LINK.test(link)) {
            v.fail(
                `${at}.groups`,
                link,
                "allowed: self links of instance groups or zonal network endpoint groups (projects/P/zones/Z/instanceGroups/N or .../networkEndpointGroups/N)",
            );
        }
    }
    return {
        ...common,
        kind: "groups",
        groups,
        port: v.integer(`${at}.port`, optional(spec.port, 8080), 1, 65535),
        portName: v.text(`${at}.portName`, optional(spec.portName, "http"), "a named port", /^[a-z][a-z0-9-]*$/),
        healthCheckPath: parseHealthCheckPath(v, at, spec),
        maxRatePerEndpoint: v.integer(
            `${at}.maxRatePerEndpoint`,
            optional(spec.maxRatePerEndpoint, 1000),
            1,
            1_000_000,
        ),
    };
}

function parseCloudRunBackend(
    v: Validator,
    at: string,
    spec: Record<string, unknown>,
    common: BackendCommonSettings,
): CloudRunBackend {
    const minInstances = v.integer(`${at}.minInstances`, optional(spec.minInstances, 0), 0, 1000);
    return {
        ...common,
        kind: "cloudRun",
        image: v.text(`${at}.image`, spec.image, "a container image reference"),
        region: v.text(`${at}.region`, spec.region, "a Cloud Run region such as us-central1", /^[a-z]+-[a-z]+[0-9]+$/),
        requestTimeoutSec: v.integer(
            `${at}.requestTimeoutSec`,
            optional(spec.requestTimeoutSec, 300),
            1,
            CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
            " (Cloud Run's request timeout ceiling)",
        ),
        minInstances,
        maxInstances: v.integer(
            `${at}.maxInstances`,
            optional(spec.maxInstances, 10),
            Math.max(minInstances, 1),
            1000,
            " and at least minInstances",
        ),
        port: v.integer(`${at}.port`, optional(spec.port, 8080), 1, 65535),
        pinnedRevision:
            spec.pinnedRevision === undefined
                ? undefined
                : v.text(
                      `${at}.pinnedRevision`,
                      spec.pinnedRevision,
                      "a Cloud Run revision name",
                      /^[a-z][a-z0-9-]{0,62}$/,
                  ),
        ...parseServiceEnv(v, at, spec),
    };
}

function parseBackend(v: Validator, key: string, name: string, spec: unknown): BackendSettings | undefined {
    const at = `${key}.${name}`;
    if (!RESOURCE_STEM.test(name)) {
        v.fail(
            key,
            name,
            "backend names are used in resource names; allowed: lowercase letters, digits and -, starting with a letter, at most 20 characters",
        );
    }
    if (!isRecord(spec)) {
        v.fail(at, spec, "allowed: an object with kind and paths");
        return undefined;
    }
    const { kind, common } = parseBackendCommon(v, at, name, spec);
    switch (kind) {
        case "instanceGroup":
            return parseInstanceGroupBackend(v, at, spec, common);
        case "groups":
            return parseGroupsBackend(v, at, spec, common);
        case "cloudRun":
            return parseCloudRunBackend(v, at, spec, common);
    }
}

/** A config value, read from its JSON text; undefined when unset. */
type ConfigGetter = (name: string) => unknown;

const CLASSIC_NO_ROUTE_TIMEOUT =
    "the classic EXTERNAL scheme supports no routeAction.timeout; set 0 or use EXTERNAL_MANAGED";

/** A route timeout, which the classic EXTERNAL scheme cannot carry. */
function parseRouteTimeout(v: Validator, get: ConfigGetter, name: string, scheme: LoadBalancingScheme): number {
    const key = v.key(name);
    const seconds = v.integer(key, get(name), 0, RECOMMENDED_MAX_TIMEOUT_SEC, " (0 sets no route timeout)");
    if (scheme === "EXTERNAL" && seconds > 0) {
        v.fail(key, seconds, CLASSIC_NO_ROUTE_TIMEOUT);
    }
    return seconds;
}

function parseTraffic(v: Validator, get: ConfigGetter, scheme: LoadBalancingScheme) {
    const backendTimeoutSec = v.integer(
        v.key("backendTimeoutSec"),
        get("backendTimeoutSec"),
        1,
        RECOMMENDED_MAX_TIMEOUT_SEC,
        " (Google advises against more: GFEs restart for maintenance)",
    );
    const affinityKey = v.key("sessionAffinity");
    const sessionAffinity = parseAffinity(v, affinityKey, get("sessionAffinity"));
    if (scheme === "EXTERNAL" && !CLASSIC_AFFINITIES.includes(sessionAffinity)) {
        v.fail(
            affinityKey,
            sessionAffinity,
            `the classic EXTERNAL scheme supports only ${CLASSIC_AFFINITIES.join(", ")}`,
        );
    }
    const sessionAffinityTtlSec = v.integer(
        v.key("sessionAffinityTtlSec"),
        get("sessionAffinityTtlSec"),
        0,
        MAX_AFFINITY_COOKIE_TTL_SEC,
        " (0 is a session cookie)",
    );
    return {
        backendTimeoutSec,
        sessionAffinity,
        sessionAffinityTtlSec,
        websocketTimeoutSec: parseRouteTimeout(v, get, "websocketTimeoutSec", scheme),
        httpTimeoutSec: parseRouteTimeout(v, get, "httpTimeoutSec", scheme),
        websocketPaths: v.paths(v.key("websocketPaths"), get("websocketPaths"), false),
        deletionProtection: v.flag(v.key("deletionProtection"), get("deletionProtection")),
    };
}

function parseDomains(v: Validator, get: ConfigGetter): string[] {
    const domainsKey = v.key("domains");
    const domainsValue = get("domains");
    const domains = domainsValue === undefined ? [] : v.stringList(domainsKey, domainsValue, false);
    if (domainsValue === undefined) {
        v.fail(
            domainsKey,
            undefined,
            'required: a list of host names for the managed certificate, such as ["chat.example.com"]',
        );
    }
    for (const domain of domains) {
        if (!HOSTNAME.test(domain)) {
            v.fail(domainsKey, domain, "allowed: lowercase fully qualified host names such as chat.example.com");
        }
    }
    return domains;
}

function parseRequestHeaders(v: Validator, get: ConfigGetter, scheme: LoadBalancingScheme): HeaderSetting[] {
    const headersKey = v.key("requestHeaders");
    const requestHeaders = parseHeaders(v, headersKey, get("requestHeaders"));
    if (scheme === "EXTERNAL" && requestHeaders.length > 0) {
        v.fail(
            headersKey,
            requestHeaders.map((h) => h.name),
            "the classic EXTERNAL scheme supports no headerAction; set [] or use EXTERNAL_MANAGED",
        );
    }
    return requestHeaders;
}

/** Exactly one backend serves the WebSocket paths; a backend that failed to parse is not counted as lacking it. */
function checkWebsocketBackend(v: Validator, key: string, backends: readonly BackendSettings[], configured: number) {
    const websocketBackends = backends.filter((b) => b.websocket).map((b) => b.name);
    const why = "exactly one backend must set websocket: true (it serves websocketPaths and the default route)";
    if (websocketBackends.length === 0 && backends.length === configured) {
        v.problems.push(
            `${key} has no backend with websocket: true (backends: ${backends.map((b) => b.name).join(", ")}); ${why}`,
        );
    } else if (websocketBackends.length > 1) {
        v.problems.push(`${key} has websocket: true on ${websocketBackends.join(", ")}; ${why}`);
    }
}

/** Each path goes to one backend, and a Cloud Run WebSocket backend cannot outlive its request timeout. */
function checkBackendRoutes(
    v: Validator,
    key: string,
    backends: readonly BackendSettings[],
    websocketPaths: readonly string[],
    websocketTimeoutSec: number,
): void {
    const owner = new Map<string, string>(websocketPaths.map((p) => [p, "websocketPaths"]));
    for (const backend of backends) {
        for (const path of backend.paths) {
            const other = owner.get(path);
            if (other) {
                v.fail(
                    `${key}.${backend.name}.paths`,
                    path,
                    `that path is already routed by ${other}; each path goes to one service`,
                );
            }
            owner.set(path, `backends.${backend.name}`);
        }
        if (
            backend.kind === "cloudRun" &&
            backend.websocket &&
            websocketTimeoutSec > CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC
        ) {
            v.fail(
                v.key("websocketTimeoutSec"),
                websocketTimeoutSec,
                `backend ${backend.name} is cloudRun and serves the WebSocket paths, and Cloud Run ends a WebSocket at its request timeout (at most ${CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC} s); ` +
                    `allowed: at most ${CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC}, or move the WebSocket backend to kind instanceGroup or groups for 24-hour connections`,
            );
        }
    }
}

function parseBackends(
    v: Validator,
    get: ConfigGetter,
    websocketPaths: readonly string[],
    websocketTimeoutSec: number,
): BackendSettings[] {
    const backendsKey = v.key("backends");
    const backendsValue = get("backends");
    const backends: BackendSettings[] = [];
    if (!isRecord(backendsValue) || Object.keys(backendsValue).length === 0) {
        v.fail(
            backendsKey,
            backendsValue,
            "required: a map of backend name to {kind, paths, ...} with exactly one websocket: true",
        );
        return backends;
    }
    for (const [name, spec] of Object.entries(backendsValue)) {
        const backend = parseBackend(v, backendsKey, name, spec);
        if (backend) {
            backends.push(backend);
        }
    }
    checkSubnetOverlaps(v, backendsKey, backends);
    checkWebsocketBackend(v, backendsKey, backends, Object.keys(backendsValue).length);
    checkBackendRoutes(v, backendsKey, backends, websocketPaths, websocketTimeoutSec);
    return backends;
}

/**
 * A text setting as text. Config stores text, which parseJson reads as a number or boolean when
 * it looks like one; that is turned back into the text the user wrote.
 */
function configText(value: unknown): string {
    if (typeof value === "string") {
        return value;
    }
    if (typeof value === "number" || typeof value === "boolean") {
        return String(value);
    }
    // A structure is shown as the JSON it was given as, so the URL check refuses it by its text.
    return value === undefined || value === null ? "" : JSON.stringify(value);
}

function parseMonitoring(
    v: Validator,
    get: ConfigGetter,
    secrets: { readonly pagerDutyServiceKeys?: string },
): MonitoringSettings {
    const emailsKey = v.key("alertEmails");
    const alertEmails = v.stringList(emailsKey, get("alertEmails") ?? [], true);
    for (const email of alertEmails) {
        if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(email)) {
            v.fail(emailsKey, email, "allowed: email addresses such as oncall@example.com");
        }
    }
    const webhookKey = v.key("pagingWebhookUrl");
    const pagingWebhookUrl = configText(get("pagingWebhookUrl"));
    if (pagingWebhookUrl && !/^https:\/\/[^\s/]+\/\S*$/.test(pagingWebhookUrl)) {
        v.fail(webhookKey, pagingWebhookUrl, "allowed: an https:// URL, or empty for no paging webhook");
    }
    const percent = (key: string) => v.integer(v.key(key), get(key), 1, 100, " (percent)");
    return {
        alertEmails,
        pagingWebhookUrl,
        alert5xxPercent: percent("alert5xxPercent"),
        alertHandshakeFailurePercent: percent("alertHandshakeFailurePercent"),
        alertConnectionFailurePercent: percent("alertConnectionFailurePercent"),
        alertTimeoutErrorsPerMinute: v.integer(
            v.key("alertTimeoutErrorsPerMinute"),
            get("alertTimeoutErrorsPerMinute"),
            1,
            1_000_000,
            " (requests a minute)",
        ),
        alertRoutes: parseAlertRoutes(v, get("alertRoutes"), {
            pagingWebhookUrl,
            pagerDutyServiceKeys: secrets.pagerDutyServiceKeys,
        }),
    };
}

/**
 * Validates raw configuration into frozen settings. Every problem is reported at once, each
 * naming the key, the value and what is allowed; nothing is returned when there is any.
 */
export function parseSettings(
    read: RawConfigReader,
    namespace: string,
    /** Secret values as the CLI stores them (JSON text), read only to check they are there. */
    secrets: { readonly pagerDutyServiceKeys?: string } = {},
): LoadBalancerSettings {
    const v = new Validator(namespace);
    const get: ConfigGetter = (name) => parseJson(read(name));

    // Each parser below reports its problems as it goes: their order is the order users see.
    const scheme = v.oneOf(v.key("loadBalancingScheme"), get("loadBalancingScheme"), LOAD_BALANCING_SCHEMES);
    const traffic = parseTraffic(v, get, scheme);
    const domains = parseDomains(v, get);
    const connectionDrainingTimeoutSec = v.integer(
        v.key("connectionDrainingTimeoutSec"),
        get("connectionDrainingTimeoutSec"),
        0,
        MAX_CONNECTION_DRAINING_SEC,
    );
    const requestHeaders = parseRequestHeaders(v, get, scheme);
    const backends = parseBackends(v, get, traffic.websocketPaths, traffic.websocketTimeoutSec);
    const monitoring = parseMonitoring(v, get, secrets);
    const syntheticMonitor = parseSyntheticMonitor(v, v.key("syntheticMonitor"), get("syntheticMonitor"), backends);
    const cloudArmor = parseCloudArmor(v, get("cloudArmor"), domains);
    const loadTest = parseLoadTest(v, v.key("loadTest"), get("loadTest"), backends);

    if (v.problems.length > 0) {
        throw new ConfigError(v.problems);
    }
    return deepFreeze({
        backendTimeoutSec: traffic.backendTimeoutSec,
        sessionAffinity: traffic.sessionAffinity,
        sessionAffinityTtlSec: traffic.sessionAffinityTtlSec,
        websocketTimeoutSec: traffic.websocketTimeoutSec,
        httpTimeoutSec: traffic.httpTimeoutSec,
        deletionProtection: traffic.deletionProtection,
        websocketPaths: traffic.websocketPaths,
        domains,
        loadBalancingScheme: scheme,
        connectionDrainingTimeoutSec,
        requestHeaders,
        backends,
        monitoring,
        syntheticMonitor,
        cloudArmor,
        loadTest,
    });
}

function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null) {
        for (const inner of Object.values(value)) {
            deepFreeze(inner);
        }
        Object.freeze(value);
    }
    return value;
}

/** The only place the program reads `pulumi.Config`. */
export function readSettings(): LoadBalancerSettings {
    const config = new pulumi.Config();
    const secretKeys: readonly string[] = UNDECLARED_CONFIG_KEYS;
    const settings = parseSettings((key) => (secretKeys.includes(key) ? undefined : config.get(key)), config.name, {
        // The raw text, not config.get: that warns about reading a secret in plain text.
        pagerDutyServiceKeys: pulumi.runtime.getConfig(`${config.name}:pagerDutyServiceKeys`),
    });
    const token = settings.monitoring.pagingWebhookUrl ? config.getSecret("pagingWebhookToken") : undefined;
    const pagerDutyServiceKeys = config.getSecretObject<Record<string, string>>("pagerDutyServiceKeys");
    if (token === undefined && pagerDutyServiceKeys === undefined) {
        return settings;
    }
    // deepFreeze must not walk into an Output, so the secrets are added to a frozen copy.
    return Object.freeze({
        ...settings,
        monitoring: Object.freeze({ ...settings.monitoring, pagingWebhookToken: token, pagerDutyServiceKeys }),
    });
}
