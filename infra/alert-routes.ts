import * as pulumi from "@pulumi/pulumi";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as pubsub from "@pulumi/gcp/pubsub";
import * as organizations from "@pulumi/gcp/organizations";
import { didYouMean } from "../cli/suggest";
import { isRecord, Validator } from "./config-checks";

// Paging by team, as the staging incident report's "Alerting Configuration" routes them: each alert goes to the
// channels of the teams that own it. Config `alertRoutes` lists each team's channels; this file
// parses it and builds the channels. Without `alertRoutes`, every alert goes to the stack's
// alertEmails and paging webhook.

const TEAMS = ["operations", "infrastructure", "business"] as const;
type Team = (typeof TEAMS)[number];

/** One channel of a team: an email address, the stack's basic-auth paging webhook, PagerDuty, or a Pub/Sub topic the stack creates. */
type RouteChannel =
    | { readonly kind: "email"; readonly address: string }
    | { readonly kind: "webhook" }
    | { readonly kind: "pagerduty" }
    | { readonly kind: "pubsub" };
export type AlertRoutes = Readonly<Partial<Record<Team, readonly RouteChannel[]>>>;

/**
 * Which teams each alert pages (keys of Monitoring["alerts"] in infra/monitoring.ts):
 * - connection failure ratio > 5 % and handshake failure ratio > 10 %: operations (the staging incident report);
 * - the "load balancer timeout errors": infrastructure (the staging incident report), who own
 *   timeouts and capacity. The alert counts requests a backend did not answer within its timeout
 *   (statusDetails backend_timeout, a 504): a slow or undersized backend. It does not see the cut
 *   of a WebSocket at the end of its lifetime, so it is not routed or described as that;
 * - chat degradation: business. The synthetic monitor's failed chat checks are that signal; a stack
 *   that runs no synthetic monitor sends them the handshake failure alert instead;
 * - the HTTP 5xx ratio is not in the staging incident report's routing: operations, who own backend health (inferred).
 * An alert key not listed here pages operations, so a renamed or new alert is never silent.
 */
const ALERT_TEAMS = {
    connectionFailures: ["operations"],
    handshakeFailures: ["operations"],
    timeoutErrors: ["infrastructure"],
    errors5xx: ["operations"],
} as const satisfies Readonly<Record<string, readonly Team[]>>;
/** The alerts infra/monitoring.ts builds, by key: a renamed alert breaks the build here. */
export type AlertKey = keyof typeof ALERT_TEAMS;

/**
 * The staging incident report pages business operations on chat degradation: the synthetic monitor's failing chat
 * checks (infra/synthetic-monitor.ts, routed with channelIdsOf("business")). A stack that runs no
 * synthetic monitor sends them this signal instead.
 */
const CHAT_DEGRADATION_FALLBACK: AlertKey = "handshakeFailures";

const CHANNEL_FORMS = `"email:ADDRESS", "webhook", "pagerduty" or "pubsub"`;

/** Parses `alertRoutes`: every problem goes to the validator, so all are reported at once. */
export function parseAlertRoutes(
    v: Validator,
    value: unknown,
    context: { pagingWebhookUrl: string; pagerDutyServiceKeys?: string },
): AlertRoutes {
    const key = v.key("alertRoutes");
    if (value === undefined || value === null) {
        return {};
    }
    if (!isRecord(value)) {
        v.fail(key, value, `allowed: a map of team (${TEAMS.join(", ")}) to a list of channels, each ${CHANNEL_FORMS}`);
        return {};
    }
    const routes: Partial<Record<Team, RouteChannel[]>> = {};
    for (const [team, list] of Object.entries(value)) {
        if (!(TEAMS as readonly string[]).includes(team)) {
            v.fail(`${key}.${team}`, list, `no such team${didYouMean(team, TEAMS)}; allowed: ${TEAMS.join(", ")}`);
            continue;
        }
        if (!Array.isArray(list) || list.length === 0) {
            v.fail(`${key}.${team}`, list, `allowed: a non-empty list of channels, each ${CHANNEL_FORMS}`);
            continue;
        }
        const channels: RouteChannel[] = [];
        for (const entry of list) {
            const text = typeof entry === "string" ? entry : "";
            const email = /^email:([^@\s]+@[^@\s]+\.[a-z]{2,})$/i.exec(text);
            if (email) {
                channels.push({ kind: "email", address: email[1] });
            } else if (text === "webhook") {
                if (!context.pagingWebhookUrl) {
                    v.fail(
                        `${key}.${team}`,
                        entry,
                        "the webhook channel needs pagingWebhookUrl (and pagingWebhookToken, a secret); set them, or use another channel",
                    );
                }
                channels.push({ kind: "webhook" });
            } else if (text === "pagerduty") {
                const missing = pagerDutyKeyProblem(team, context.pagerDutyServiceKeys);
                // A preview (a pull request's, a checkout's) may lack the secret altogether: the
                // channel is shown with a stand-in key and a warning, and pulumi up stops here.
                const previewWithoutSecret = context.pagerDutyServiceKeys === undefined && pulumi.runtime.isDryRun();
                if (missing && !previewWithoutSecret) {
                    v.fail(`${key}.${team}`, entry, missing);
                }
                channels.push({ kind: text });
            } else if (text === "pubsub") {
                channels.push({ kind: text });
            } else {
                v.fail(
                    `${key}.${team}`,
                    entry,
                    `allowed: ${CHANNEL_FORMS} (an email channel needs a valid address, such as email:oncall@example.com)`,
                );
                continue;
            }
            const last = channels[channels.length - 1];
            if (channels.slice(0, -1).some((c) => JSON.stringify(c) === JSON.stringify(last))) {
                v.fail(`${key}.${team}`, entry, "that channel is listed twice for this team; list it once");
                channels.pop();
            }
        }
        routes[team as Team] = channels;
    }
    return routes;
}

/**
 * Why a team's pagerduty channel cannot be built, or undefined. A value that is not JSON (the
 * offline preview's placeholder for a secret it cannot decrypt) is taken as set: only its absence
 * is known then.
 */
function pagerDutyKeyProblem(team: string, raw: string | undefined): string | undefined {
    const fix = `set it with pulumi config set --secret pagerDutyServiceKeys '{"${team}":"..."}'`;
    if (raw === undefined) {
        return `the pagerduty channel needs the secret pagerDutyServiceKeys, which is not set; ${fix}`;
    }
    let keys: unknown;
    try {
        keys = JSON.parse(raw);
    } catch {
        return undefined;
    }
    const key = isRecord(keys) ? keys[team] : undefined;
    return typeof key === "string" && key !== ""
        ? undefined
        : `the pagerduty channel needs a key for ${team} in the secret pagerDutyServiceKeys, which has none; ${fix}`;
}

export interface RoutedChannels {
    /** Every channel this file created. */
    readonly channels: monitoring.NotificationChannel[];
    /** The Pub/Sub topics created for teams with a pubsub channel. */
    readonly topics: Partial<Record<Team, pubsub.Topic>>;
    /** The channels an alert pages, by its key in ALERT_TEAMS. */
    channelIdsFor(alert: AlertKey): pulumi.Output<string>[];
    /** A team's channels: for alerts built elsewhere (the synthetic monitor's `channels` parameter). */
    channelIdsOf(team: Team): pulumi.Output<string>[];
}

type ChannelSecrets = {
    pagerDutyServiceKeys?: pulumi.Output<Record<string, string>>;
    pagingWebhookUrl: string;
    pagingWebhookToken?: pulumi.Output<string>;
};
type Parent = { parent: pulumi.Resource };

function createEmailChannel(id: string, team: Team, address: string, opts: Parent): monitoring.NotificationChannel {
    return new monitoring.NotificationChannel(
        id,
        {
            displayName: `WebSocket LB ${team}: ${address}`,
            type: "email",
            labels: { email_address: address },
        },
        opts,
    );
}

function createWebhookChannel(
    id: string,
    team: Team,
    secrets: ChannelSecrets,
    opts: Parent,
): monitoring.NotificationChannel {
    return new monitoring.NotificationChannel(
        id,
        {
            displayName: `WebSocket LB ${team}: paging webhook`,
            type: "webhook_basicauth",
            labels: { url: secrets.pagingWebhookUrl, username: "websocket-lb" },
            sensitiveLabels: secrets.pagingWebhookToken ? { password: secrets.pagingWebhookToken } : undefined,
        },
        opts,
    );
}

/** The team's PagerDuty service key; up refuses to run without it, a preview shows a stand-in. */
function pagerDutyServiceKey(team: Team, keys: ChannelSecrets["pagerDutyServiceKeys"]): pulumi.Output<string> {
    if (keys) {
        return pulumi.secret(
            keys.apply((k) => {
                if (typeof k?.[team] !== "string" || k[team] === "") {
                    throw new Error(
                        `alertRoutes.${team} lists pagerduty, but the secret pagerDutyServiceKeys has no key for ${team}; set it with pulumi config set --secret pagerDutyServiceKeys '{"${team}":"..."}'`,
                    );
                }
                return k[team];
            }),
        );
    }
    const missing = `alertRoutes.${team} lists pagerduty, but the secret pagerDutyServiceKeys is not set; set it with pulumi config set --secret pagerDutyServiceKeys '{"${team}":"..."}'`;
    if (!pulumi.runtime.isDryRun()) {
        throw new Error(missing);
    }
    // A preview (a pull request's, a checkout's) shows the channel and what up needs.
    void pulumi.log.warn(`${missing}; pulumi up stops here until it is`);
    return pulumi.secret("(set at deploy)");
}

function createPagerDutyChannel(
    id: string,
    team: Team,
    secrets: ChannelSecrets,
    opts: Parent,
): monitoring.NotificationChannel {
    return new monitoring.NotificationChannel(
        id,
        {
            displayName: `WebSocket LB ${team}: PagerDuty`,
            type: "pagerduty",
            sensitiveLabels: { serviceKey: pagerDutyServiceKey(team, secrets.pagerDutyServiceKeys) },
        },
        opts,
    );
}

/** A topic for the team that the Monitoring notification service agent may publish to, and its channel. */
function createPubSubChannel(
    name: string,
    id: string,
    team: Team,
    projectNumber: () => pulumi.Output<string>,
    opts: Parent,
): { topic: pubsub.Topic; channel: monitoring.NotificationChannel } {
    const topic = new pubsub.Topic(
        `${name}-${team}-alerts`,
        { labels: { team, purpose: "websocket-lb-alerts" } },
        opts,
    );
    new pubsub.TopicIAMMember(
        `${name}-${team}-alerts-publisher`,
        {
            topic: topic.name,
            role: "roles/pubsub.publisher",
            member: pulumi.interpolate`serviceAccount:service-${projectNumber()}@gcp-sa-monitoring-notification.iam.gserviceaccount.com`,
        },
        opts,
    );
    const channel = new monitoring.NotificationChannel(
        id,
        {
            displayName: `WebSocket LB ${team}: Pub/Sub ${team}-alerts`,
            type: "pubsub",
            labels: { topic: topic.id },
        },
        opts,
    );
    return { topic, channel };
}

/**
 * Builds each team's channels. PagerDuty: type `pagerduty` with the service key in
 * `sensitiveLabels.serviceKey` (node_modules/@pulumi/gcp/types/input.d.ts,
 * NotificationChannelSensitiveLabels.serviceKey: "Channel types that support this field include:
 * pagerduty"), the key read from the secret config `pagerDutyServiceKeys` (team to key). Pub/Sub:
 * a topic per team, type `pubsub` with label `topic`, and the Monitoring notification service
 * agent allowed to publish to it
 * (https://cloud.google.com/monitoring/support/notification-options#pubsub).
 */
export function createRoutedChannels(
    name: string,
    routes: AlertRoutes,
    secrets: ChannelSecrets,
    opts: Parent,
    options: { chatChecksRun: boolean },
): RoutedChannels {
    const channels: monitoring.NotificationChannel[] = [];
    const topics: Partial<Record<Team, pubsub.Topic>> = {};
    const byTeam: Partial<Record<Team, monitoring.NotificationChannel[]>> = {};
    // Looked up once, and only when some team has a Pub/Sub channel.
    let projectNumberOutput: pulumi.Output<string> | undefined;
    const projectNumber = () => (projectNumberOutput ??= organizations.getProjectOutput({}, opts).number);
    for (const team of TEAMS) {
        for (const route of routes[team] ?? []) {
            const id = `${name}-${team}-${route.kind}${route.kind === "email" ? `-${(byTeam[team] ?? []).length}` : ""}`;
            let channel: monitoring.NotificationChannel;
            if (route.kind === "email") {
                channel = createEmailChannel(id, team, route.address, opts);
            } else if (route.kind === "webhook") {
                channel = createWebhookChannel(id, team, secrets, opts);
            } else if (route.kind === "pagerduty") {
                channel = createPagerDutyChannel(id, team, secrets, opts);
            } else {
                const created = createPubSubChannel(name, id, team, projectNumber, opts);
                topics[team] = created.topic;
                channel = created.channel;
            }
            channels.push(channel);
            (byTeam[team] ??= []).push(channel);
        }
    }
    const channelIdsOf = (team: Team) => (byTeam[team] ?? []).map((c) => c.id);
    return {
        channels,
        topics,
        channelIdsOf,
        channelIdsFor: (alert) => {
            const teams: readonly Team[] = [
                ...ALERT_TEAMS[alert],
                ...(alert === CHAT_DEGRADATION_FALLBACK && !options.chatChecksRun ? (["business"] as const) : []),
            ];
            return [...new Set(teams.flatMap((team) => channelIdsOf(team)))];
        },
    };
}
