import { sdkProxy } from "../../policies/lib/sdk-proxy";
import { T } from "../../policies/lib/types";
import { TestResource } from "./harness";

export { T };
type Props = Record<string, unknown>;

const P = "projects/example-chat";

/** A copy with top-level properties replaced; a value of undefined removes the property. */
export function changed(resource: TestResource, changes: Props, links?: TestResource["links"]): TestResource {
    const props: Props = { ...structuredClone(resource.props) };
    for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) {
            delete props[key];
        } else {
            props[key] = value;
        }
    }
    return { ...resource, props, links: links ?? resource.links };
}

/** A compliant WebSocket backend service on a managed instance group. */
export function websocketBackend(): TestResource {
    return {
        type: T.backendService,
        name: "chat-api-backend",
        props: {
            name: "chat-api-backend-1a2b3c4",
            protocol: "HTTP",
            loadBalancingScheme: "EXTERNAL_MANAGED",
            timeoutSec: 86400,
            sessionAffinity: "GENERATED_COOKIE",
            affinityCookieTtlSec: 86400,
            localityLbPolicy: "RING_HASH",
            connectionDrainingTimeoutSec: 300,
            portName: "http",
            healthChecks: `${P}/global/healthChecks/chat-api-hc`,
            logConfig: { enable: true, sampleRate: 1 },
            backends: [
                {
                    group: `https://www.googleapis.com/compute/v1/${P}/regions/us-central1/instanceGroups/chat-api`,
                    balancingMode: "RATE",
                    maxRatePerInstance: 500,
                    capacityScaler: 1,
                },
            ],
        },
    };
}

/** Cloud Run behind a serverless NEG behind a backend service, all compliant, linked like a real program. */
export function serverlessChain(name = "auth", timeout = "60s") {
    const run: TestResource = {
        type: T.cloudRunV2Service,
        name: `chat-${name}-run`,
        props: {
            name: `chat-${name}-run-9f8e7d6`,
            location: "us-central1",
            template: { timeout, sessionAffinity: true, containers: [{ image: "example/auth:1" }] },
        },
    };
    const neg: TestResource = {
        type: T.regionNetworkEndpointGroup,
        name: `chat-${name}-neg`,
        props: {
            name: `chat-${name}-neg-5d4c3b2`,
            region: "us-central1",
            networkEndpointType: "SERVERLESS",
            cloudRun: { service: run.props.name },
        },
        links: { cloudRun: [run] },
    };
    const backend: TestResource = {
        type: T.backendService,
        name: `chat-${name}-backend`,
        props: {
            name: `chat-${name}-backend-0a1b2c3`,
            protocol: "HTTPS",
            loadBalancingScheme: "EXTERNAL_MANAGED",
            logConfig: { enable: true, sampleRate: 1 },
            backends: [{ group: `${P}/regions/us-central1/networkEndpointGroups/${String(neg.props.name)}` }],
        },
        links: { backends: [neg] },
    };
    return { run, neg, backend };
}

/** The short route timeout the program gives every route that is not a WebSocket path. */
const HTTP_ROUTE = { timeout: { seconds: "30", nanos: 0 } };

/** A URL map as the program builds it: WebSocket paths at 86400 s, every other route and the defaults at 30 s. */
export function websocketUrlMap(
    ws: TestResource,
    others: Array<{ paths: string[]; backend: TestResource }> = [],
): TestResource {
    const id = (r: TestResource) => `${P}/global/backendServices/${String(r.props.name)}`;
    return {
        type: T.urlMap,
        name: "chat-https",
        props: {
            name: "chat-https-77aa88b",
            defaultService: id(ws),
            defaultRouteAction: structuredClone(HTTP_ROUTE),
            hostRules: [{ hosts: ["chat.example.com"], pathMatcher: "websocket-routes" }],
            pathMatchers: [
                {
                    name: "websocket-routes",
                    defaultService: id(ws),
                    defaultRouteAction: structuredClone(HTTP_ROUTE),
                    headerAction: {
                        requestHeadersToAdds: [
                            { headerName: "X-Forwarded-Proto", headerValue: "https", replace: true },
                            { headerName: "X-WebSocket-Upgrade", headerValue: "true", replace: true },
                        ],
                    },
                    pathRules: [
                        {
                            paths: ["/ws", "/ws/*", "/websocket", "/websocket/*"],
                            service: id(ws),
                            routeAction: { timeout: { seconds: "86400", nanos: 0 } },
                        },
                        ...others.map((o) => ({
                            paths: o.paths,
                            service: id(o.backend),
                            routeAction: structuredClone(HTTP_ROUTE),
                        })),
                    ],
                },
            ],
        },
        links: { defaultService: [ws], pathMatchers: [ws, ...others.map((o) => o.backend)] },
    };
}

/** The Cloud Armor policy the program writes from the cloudArmor defaults (infra/security.ts). */
export function armorPolicy(): TestResource {
    const wsPaths = "request.path.matches('^(/ws|/ws/.*|/websocket|/websocket/.*)$')";
    return {
        type: T.securityPolicy,
        name: "chat-armor",
        props: {
            name: "chat-armor-3c4d5e6",
            type: "CLOUD_ARMOR",
            rules: [
                {
                    priority: 1000,
                    action: "deny(403)",
                    match: {
                        expr: {
                            expression: `${wsPaths} && has(request.headers['origin']) && !request.headers['origin'].matches('^(https://chat\\\\.example\\\\.com)$')`,
                        },
                    },
                },
                {
                    priority: 2000,
                    action: "throttle",
                    match: { expr: { expression: wsPaths } },
                    rateLimitOptions: {
                        conformAction: "allow",
                        exceedAction: "deny(429)",
                        enforceOnKey: "IP",
                        rateLimitThreshold: { count: 120, intervalSec: 60 },
                    },
                },
                {
                    priority: 3000,
                    action: "deny(403)",
                    match: { expr: { expression: `evaluatePreconfiguredWaf('sqli-v33-stable') && !${wsPaths}` } },
                },
                {
                    priority: 2147483647,
                    action: "allow",
                    match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
                },
            ],
        },
    };
}

/** A backend service under a security policy, linked to it as the program's would be. */
export function armored(backend: TestResource, armor: TestResource): TestResource {
    return changed(
        backend,
        { securityPolicy: `${P}/global/securityPolicies/${String(armor.props.name)}` },
        { ...backend.links, securityPolicy: [armor] },
    );
}

/** The whole compliant load balancer the program builds, as hand-written resources. */
export function compliantStack() {
    const armor = armorPolicy();
    const ws = armored(websocketBackend(), armor);
    const chain = serverlessChain();
    const auth = { ...chain, backend: armored(chain.backend, armor) };
    const map = websocketUrlMap(ws, [{ paths: ["/auth", "/auth/*"], backend: auth.backend }]);
    const sslPolicy: TestResource = {
        type: T.sslPolicy,
        name: "chat-tls",
        props: { minTlsVersion: "TLS_1_2", profile: "MODERN" },
    };
    const httpsProxy: TestResource = {
        type: T.targetHttpsProxy,
        name: "chat-https-proxy",
        props: {
            urlMap: `${P}/global/urlMaps/chat-https-77aa88b`,
            sslPolicy: `${P}/global/sslPolicies/chat-tls`,
            sslCertificates: [`${P}/global/sslCertificates/chat-cert`],
        },
        links: { urlMap: [map], sslPolicy: [sslPolicy] },
    };
    const httpsRule: TestResource = {
        type: T.globalForwardingRule,
        name: "chat-https-rule",
        props: {
            portRange: "443",
            loadBalancingScheme: "EXTERNAL_MANAGED",
            ipProtocol: "TCP",
            target: `${P}/global/targetHttpsProxies/chat-https-proxy`,
        },
        links: { target: [httpsProxy] },
    };
    const redirectMap: TestResource = {
        type: T.urlMap,
        name: "chat-http-redirect",
        props: {
            defaultUrlRedirect: {
                httpsRedirect: true,
                redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
                stripQuery: false,
            },
        },
    };
    const httpProxy: TestResource = {
        type: T.targetHttpProxy,
        name: "chat-http-proxy",
        props: { urlMap: `${P}/global/urlMaps/chat-http-redirect` },
        links: { urlMap: [redirectMap] },
    };
    const httpRule: TestResource = {
        type: T.globalForwardingRule,
        name: "chat-http-rule",
        props: {
            portRange: "80",
            loadBalancingScheme: "EXTERNAL_MANAGED",
            ipProtocol: "TCP",
            target: `${P}/global/targetHttpProxies/chat-http-proxy`,
        },
        links: { target: [httpProxy] },
    };
    const all = [
        armor,
        ws,
        auth.run,
        auth.neg,
        auth.backend,
        map,
        sslPolicy,
        httpsProxy,
        httpsRule,
        redirectMap,
        httpProxy,
        httpRule,
    ];
    return { armor, ws, auth, map, sslPolicy, httpsProxy, httpsRule, redirectMap, httpProxy, httpRule, all };
}

/** The stack with one resource replaced; links find resources by type and name, so they follow. */
export function swap(all: TestResource[], from: TestResource, to: TestResource): TestResource[] {
    return all.map((r) => (r === from ? to : r));
}

/** The regional managed instance group behind websocketBackend() and its autoscaler, both compliant. */
export function websocketGroup() {
    const mig: TestResource = {
        type: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
        name: "chat-api-mig",
        props: {
            name: "chat-api",
            region: "us-central1",
            baseInstanceName: "chat-api",
            namedPorts: [{ name: "http", port: 8080 }],
            updatePolicy: {
                type: "PROACTIVE",
                minimalAction: "REPLACE",
                instanceRedistributionType: "NONE",
                maxSurgeFixed: 3,
                maxUnavailableFixed: 0,
            },
        },
    };
    const autoscaler: TestResource = {
        type: "gcp:compute/regionAutoscaler:RegionAutoscaler",
        name: "chat-api-autoscaler",
        props: {
            region: "us-central1",
            target: `${P}/regions/us-central1/instanceGroupManagers/chat-api`,
            autoscalingPolicy: {
                minReplicas: 2,
                maxReplicas: 4,
                scaleInControl: { maxScaledInReplicas: { fixed: 1 }, timeWindowSec: 3600 },
            },
        },
        links: { target: [mig] },
    };
    // Google's health-check and proxy ranges to the serving port, on every instance of the network.
    const firewall: TestResource = {
        type: "gcp:compute/firewall:Firewall",
        name: "chat-api-allow-google-proxies",
        props: {
            network: "default",
            direction: "INGRESS",
            sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
            allows: [{ protocol: "tcp", ports: ["8080"] }],
        },
    };
    return { mig, autoscaler, firewall };
}

/** A value the engine cannot know at preview (a new stack's ids), as the Policy SDK sees it. */
export const UNKNOWN_STRING = sdkProxy.unknownStringValue;

/** The compliant stack as a brand-new stack's preview sees it: every backend service reference unknown. */
export function newStack(s = compliantStack()): TestResource[] {
    const unknown = (rule: Record<string, unknown>) => ({ ...rule, service: UNKNOWN_STRING });
    const matchers = (s.map.props.pathMatchers as Array<Record<string, unknown>>).map((m) => ({
        ...m,
        defaultService: UNKNOWN_STRING,
        pathRules: (m.pathRules as Array<Record<string, unknown>>).map(unknown),
    }));
    const map = changed(s.map, { defaultService: UNKNOWN_STRING, pathMatchers: matchers });
    return swap(s.all, s.map, map);
}
