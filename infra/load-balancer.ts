import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { Backend, createBackends } from "./backends";
import { LoadBalancerSettings } from "./settings";
import { createFrontend, Frontend } from "./frontend";
import { createMonitoring, Monitoring } from "./monitoring";
import { createSecurityPolicy } from "./security";
import { createSyntheticMonitor, SyntheticMonitor } from "./synthetic-monitor";
import { createUrlMap } from "./urlmap";

/**
 * A global external Application Load Balancer that holds WebSockets for 24 hours: backends with
 * a 24 h timeout and cookie affinity, WebSocket routes with their own timeout, TLS, an
 * HTTP-to-HTTPS redirect, and the alerts and dashboard that watch it.
 */
export class WebSocketLoadBalancer extends pulumi.ComponentResource {
    readonly backends: readonly Backend[];
    /** The Cloud Armor policy on every backend service, unless cloudArmor.enabled is false. */
    readonly securityPolicy?: compute.SecurityPolicy;
    readonly urlMap: compute.URLMap;
    readonly frontend: Frontend;
    readonly monitoring: Monitoring;
    /** The chat checks run by Cloud Monitoring every period, when syntheticMonitor is on. */
    readonly syntheticMonitor?: SyntheticMonitor;
    readonly ipAddress: pulumi.Output<string>;
    /** `wss://` URL of each WebSocket path, per domain. */
    readonly websocketUrls: Record<string, string[]>;
    readonly backendServiceNames: Record<string, pulumi.Output<string>>;
    /** Latest ready revision of each Cloud Run backend: what a rollback pins traffic to. */
    readonly cloudRunRevisions: Record<string, pulumi.Output<string>>;

    constructor(name: string, settings: LoadBalancerSettings, opts?: pulumi.ComponentResourceOptions) {
        super("websocket-lb:index:WebSocketLoadBalancer", name, {}, opts);
        this.securityPolicy = createSecurityPolicy(name, settings, this);
        this.backends = createBackends(name, settings, this, this.securityPolicy?.selfLink);
        this.urlMap = createUrlMap(name, settings, [...this.backends], this);
        this.frontend = createFrontend(name, settings, this.urlMap, this);
        this.monitoring = createMonitoring(name, settings, this.urlMap.name, this);
        if (settings.syntheticMonitor.enabled) {
            // Chat degradation pages business operations when routes are set; else every channel.
            const channels = this.monitoring.routes
                ? this.monitoring.routes.channelIdsOf("business")
                : this.monitoring.channels.map((c) => c.id);
            this.syntheticMonitor = createSyntheticMonitor(
                name,
                settings.syntheticMonitor,
                `wss://${settings.domains[0]}`,
                channels,
                this,
            );
        }

        this.ipAddress = this.frontend.address.address;
        this.websocketUrls = Object.fromEntries(
            settings.domains.map((domain) => [domain, settings.websocketPaths.map((path) => `wss://${domain}${path}`)]),
        );
        this.backendServiceNames = Object.fromEntries(this.backends.map((b) => [b.settings.name, b.service.name]));
        this.cloudRunRevisions = Object.fromEntries(
            this.backends.flatMap((b) =>
                b.cloudRunService ? [[b.settings.name, b.cloudRunService.latestReadyRevision]] : [],
            ),
        );
        this.registerOutputs({
            ipAddress: this.ipAddress,
            websocketUrls: this.websocketUrls,
            backendServiceNames: this.backendServiceNames,
            urlMapName: this.urlMap.name,
            cloudRunRevisions: this.cloudRunRevisions,
        });
    }
}
