import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { Backend, createBackends } from "./backends";
import { settingsFromArgs } from "./component-args";
import { LoadBalancerSettings, WebSocketLoadBalancerArgs } from "./settings";
import { createFrontend, Frontend } from "./frontend";
import { createLoadTest, LoadTest } from "./load-test";
import { createMonitoring, Monitoring } from "./monitoring";
import { createSecurityPolicy } from "./security";
import { createSyntheticMonitor, SyntheticMonitor } from "./synthetic-monitor";
import { createUrlMap } from "./urlmap";

/** The resources a load balancer is made of, for the stack program and tests (not outputs of the package). */
interface Parts {
    readonly backends: readonly Backend[];
    /** The Cloud Armor policy on every backend service, unless cloudArmor.enabled is false. */
    readonly securityPolicy?: compute.SecurityPolicy;
    readonly urlMap: compute.URLMap;
    readonly frontend: Frontend;
    readonly monitoring: Monitoring;
    readonly syntheticMonitor?: SyntheticMonitor;
    /** The load job npm run load runs, when loadTest is on. */
    readonly loadTest?: LoadTest;
}

// Every property field of the class is an output of the component package (schema inference
// reads them all, private ones too), so the resources live here and are reached through getters.
const partsOf = new WeakMap<WebSocketLoadBalancer, Parts>();
/** Settings the stack program has already read and validated, by the arguments that stand for them. */
const presetSettings = new WeakMap<WebSocketLoadBalancerArgs, LoadBalancerSettings>();

/**
 * A global external Application Load Balancer that holds WebSockets for 24 hours: backends with
 * a 24 h timeout and cookie affinity, WebSocket routes with their own timeout, TLS, an
 * HTTP-to-HTTPS redirect, and the alerts and dashboard that watch it.
 */
export class WebSocketLoadBalancer extends pulumi.ComponentResource {
    /** The load balancer's global IPv4 address. */
    readonly ipAddress: pulumi.Output<string>;
    /** `wss://` URL of each WebSocket path, per domain. */
    readonly websocketUrls: Record<string, string[]>;
    /** Backend service name of each backend. */
    readonly backendServiceNames: Record<string, pulumi.Output<string>>;
    /** Latest ready revision of each Cloud Run backend: what a rollback pins traffic to. */
    readonly cloudRunRevisions: Record<string, pulumi.Output<string>>;
    /** The URL map's name. */
    readonly urlMapName: pulumi.Output<string>;
    /** The HTTPS forwarding rule's name: its request_count carries the 5xx rate. */
    readonly httpsForwardingRuleName: pulumi.Output<string>;

    /**
     * The stack program's way in: settings already read from config and validated by readSettings,
     * so a config mistake names its config key, not an argument.
     */
    static fromSettings(
        name: string,
        settings: LoadBalancerSettings,
        opts?: pulumi.ComponentResourceOptions,
    ): WebSocketLoadBalancer {
        const args: WebSocketLoadBalancerArgs = { domains: [...settings.domains], backends: {} };
        presetSettings.set(args, settings);
        return new WebSocketLoadBalancer(name, args, opts);
    }

    constructor(name: string, args: WebSocketLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before anything is registered: bad arguments create nothing.
        const settings = presetSettings.get(args) ?? settingsFromArgs(args, name);
        super("websocket-lb:index:WebSocketLoadBalancer", name, {}, opts);
        const securityPolicy = createSecurityPolicy(name, settings, this);
        const backends = createBackends(name, settings, this, securityPolicy?.selfLink);
        const urlMap = createUrlMap(name, settings, [...backends], this);
        const frontend = createFrontend(name, settings, urlMap, this);
        const monitoring = createMonitoring(name, settings, urlMap.name, this);
        let syntheticMonitor: SyntheticMonitor | undefined;
        if (settings.syntheticMonitor.enabled) {
            // Chat degradation pages business operations when routes are set; else every channel.
            const channels = monitoring.routes
                ? monitoring.routes.channelIdsOf("business")
                : monitoring.channels.map((c) => c.id);
            syntheticMonitor = createSyntheticMonitor(
                name,
                settings.syntheticMonitor,
                `wss://${settings.domains[0]}`,
                channels,
                this,
            );
        }
        const loadTest = settings.loadTest.enabled
            ? createLoadTest(
                  name,
                  settings.loadTest,
                  `wss://${settings.domains[0]}${settings.websocketPaths[0]}`,
                  settings.deletionProtection,
                  this,
              )
            : undefined;
        partsOf.set(this, { backends, securityPolicy, urlMap, frontend, monitoring, syntheticMonitor, loadTest });

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
        this.urlMapName = this.urlMap.name;
        this.httpsForwardingRuleName = this.frontend.httpsRule.name;
        this.registerOutputs({
            ipAddress: this.ipAddress,
            websocketUrls: this.websocketUrls,
            backendServiceNames: this.backendServiceNames,
            urlMapName: this.urlMapName,
            cloudRunRevisions: this.cloudRunRevisions,
            httpsForwardingRuleName: this.httpsForwardingRuleName,
        });
    }

    private get parts(): Parts {
        const parts = partsOf.get(this);
        if (!parts) {
            throw new Error("WebSocketLoadBalancer: resources read before the constructor made them");
        }
        return parts;
    }

    get backends(): readonly Backend[] {
        return this.parts.backends;
    }

    get securityPolicy(): compute.SecurityPolicy | undefined {
        return this.parts.securityPolicy;
    }

    get urlMap(): compute.URLMap {
        return this.parts.urlMap;
    }

    get frontend(): Frontend {
        return this.parts.frontend;
    }

    get monitoring(): Monitoring {
        return this.parts.monitoring;
    }

    /** The chat checks run by Cloud Monitoring every period, when syntheticMonitor is on. */
    get syntheticMonitor(): SyntheticMonitor | undefined {
        return this.parts.syntheticMonitor;
    }

    /** The load job npm run load runs, when loadTest is on. */
    get loadTest(): LoadTest | undefined {
        return this.parts.loadTest;
    }
}
