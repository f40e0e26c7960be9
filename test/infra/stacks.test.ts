import { strict as assert } from "assert";
import { dependedOnBy, named, ofType, ProgramRun, RecordedResource, runStack, TYPES } from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const EXPECTED = {
    staging: {
        domains: ["staging.chat.example.com"],
        draining: 300,
        minReplicas: 2,
        maxReplicas: 4,
        machineType: "e2-standard-2",
        project: "example-chat-staging",
        deletionProtection: false,
    },
    production: {
        domains: ["chat.example.com", "www.chat.example.com"],
        draining: 600,
        minReplicas: 6,
        maxReplicas: 30,
        machineType: "e2-standard-4",
        project: "example-chat-prod",
        deletionProtection: true,
    },
};

function isServerless(run: ProgramRun, service: RecordedResource): boolean {
    return dependedOnBy(run, service, "backends").some((r) => r.type === TYPES.neg);
}

for (const [stack, expected] of Object.entries(EXPECTED)) {
    describe(`infrastructure: the ${stack} stack under the mock runtime`, () => {
        let run: ProgramRun;
        const inputs = (r: RecordedResource) => r.inputs as Props;

        before(async () => {
            run = await runStack(stack);
        });

        it("gives every non-serverless backend service a 24 h timeout, cookie affinity with a 24 h TTL and RING_HASH, HTTP, draining, full logging and RATE balancing", () => {
            const services = ofType(run, TYPES.backendService).filter((s) => !isServerless(run, s));
            assert.deepEqual(
                services.map((s) => s.name),
                ["chat-api-backend"],
            );
            for (const service of services) {
                const p = inputs(service);
                assert.equal(p.timeoutSec, 86400);
                assert.equal(p.sessionAffinity, "GENERATED_COOKIE");
                assert.equal(p.affinityCookieTtlSec, 86400);
                // gcpdiag lb/BP/2022_001: affinity takes effect only with RING_HASH or MAGLEV.
                assert.equal(p.localityLbPolicy, "RING_HASH");
                assert.equal(p.protocol, "HTTP");
                assert.equal(p.connectionDrainingTimeoutSec, expected.draining);
                assert.deepEqual(p.logConfig, { enable: true, sampleRate: 1 });
                assert.equal(p.portName, "http");
                assert.equal(p.backends.length, 1);
                assert.equal(p.backends[0].balancingMode, "RATE");
                assert.ok(p.backends[0].maxRatePerInstance > 0);
                assert.deepEqual(
                    dependedOnBy(run, service, "backends").map((r) => r.type),
                    [TYPES.mig],
                );
                assert.deepEqual(
                    dependedOnBy(run, service, "healthChecks").map((r) => r.type),
                    [TYPES.healthCheck],
                );
            }
        });

        it("sets neither timeoutSec nor load balancer affinity on serverless backends, and turns on Cloud Run's own affinity", () => {
            const services = ofType(run, TYPES.backendService).filter((s) => isServerless(run, s));
            assert.deepEqual(services.map((s) => s.name).sort(), ["chat-auth-backend", "chat-frontend-backend"]);
            for (const service of services) {
                const p = inputs(service);
                for (const absent of [
                    "timeoutSec",
                    "sessionAffinity",
                    "affinityCookieTtlSec",
                    "healthChecks",
                    "localityLbPolicy",
                ]) {
                    assert.equal(p[absent], undefined, `${service.name} sets ${absent}`);
                }
                assert.deepEqual(
                    Object.keys(p.backends[0]),
                    ["group"],
                    "a serverless NEG backend takes no balancing mode or capacity",
                );
                const [neg] = dependedOnBy(run, service, "backends");
                assert.equal(inputs(neg).networkEndpointType, "SERVERLESS");
                const [runService] = dependedOnBy(run, neg, "cloudRun");
                assert.equal(runService.type, TYPES.cloudRun);
                assert.equal(inputs(runService).template.sessionAffinity, true);
                assert.equal(inputs(runService).template.timeout, "60s");
                assert.equal(inputs(runService).ingress, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
                assert.deepEqual(inputs(runService).traffics, [
                    { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 },
                ]);
                assert.equal(inputs(runService).deletionProtection, expected.deletionProtection);
            }
        });

        it("routes /ws, /ws/*, /websocket and /websocket/* to the WebSocket backend at 86400 s, and every other rule and the default route at 30 s", () => {
            const map = inputs(named(run, TYPES.urlMap, "chat-https"));
            const api = named(run, TYPES.backendService, "chat-api-backend");
            assert.equal(map.defaultService, api.id);
            assert.deepEqual(map.hostRules, [{ hosts: expected.domains, pathMatcher: "websocket-routes" }]);
            const [matcher] = map.pathMatchers;
            assert.equal(matcher.defaultService, api.id);
            const wsRule = matcher.pathRules.find((r: Props) => r.paths.includes("/ws"));
            assert.deepEqual(wsRule.paths, ["/ws", "/ws/*", "/websocket", "/websocket/*"]);
            assert.equal(wsRule.service, api.id);
            assert.deepEqual(wsRule.routeAction, { timeout: { seconds: "86400", nanos: 0 } });
            const auth = named(run, TYPES.backendService, "chat-auth-backend");
            assert.deepEqual(matcher.pathRules.find((r: Props) => r.service === auth.id).paths, ["/auth", "/auth/*"]);
            const thirty = { timeout: { seconds: "30", nanos: 0 } };
            const plain = matcher.pathRules.filter((r: Props) => r !== wsRule);
            assert.deepEqual(
                plain.map((r: Props) => r.paths[0]),
                ["/api", "/auth", "/app"],
            );
            for (const rule of plain) {
                assert.deepEqual(rule.routeAction, thirty, `${rule.paths[0]} waits as long as its backend`);
            }
            assert.deepEqual(matcher.defaultRouteAction, thirty);
            assert.deepEqual(map.defaultRouteAction, thirty);
        });

        it("adds X-Forwarded-Proto and X-WebSocket-Upgrade, both replacing, at the path-matcher level, and no hop-by-hop header anywhere", () => {
            const map = inputs(named(run, TYPES.urlMap, "chat-https"));
            assert.deepEqual(map.pathMatchers[0].headerAction, {
                requestHeadersToAdds: [
                    { headerName: "X-Forwarded-Proto", headerValue: "https", replace: true },
                    { headerName: "X-WebSocket-Upgrade", headerValue: "true", replace: true },
                ],
            });
            for (const rule of map.pathMatchers[0].pathRules) {
                assert.equal(rule.headerAction, undefined);
            }
            for (const service of ofType(run, TYPES.backendService)) {
                assert.equal(inputs(service).customRequestHeaders, undefined);
                assert.equal(inputs(service).customResponseHeaders, undefined);
            }
        });

        it("serves HTTPS on 443 with the managed certificate and a TLS 1.2 MODERN policy, and only redirects on port 80", () => {
            const rules = ofType(run, TYPES.forwardingRule);
            assert.deepEqual(rules.map((r) => inputs(r).portRange).sort(), ["443", "80"]);
            const https = rules.find((r) => inputs(r).portRange === "443")!;
            const [httpsProxy] = dependedOnBy(run, https, "target");
            assert.equal(httpsProxy.type, TYPES.httpsProxy);
            assert.deepEqual(
                dependedOnBy(run, httpsProxy, "urlMap").map((r) => r.name),
                ["chat-https"],
            );
            const [policy] = dependedOnBy(run, httpsProxy, "sslPolicy");
            assert.deepEqual([inputs(policy).minTlsVersion, inputs(policy).profile], ["TLS_1_2", "MODERN"]);
            const [cert] = dependedOnBy(run, httpsProxy, "sslCertificates");
            assert.deepEqual(inputs(cert).managed.domains, expected.domains);

            const http = rules.find((r) => inputs(r).portRange === "80")!;
            const [httpProxy] = dependedOnBy(run, http, "target");
            assert.equal(httpProxy.type, TYPES.httpProxy);
            const [redirect] = dependedOnBy(run, httpProxy, "urlMap");
            assert.deepEqual(inputs(redirect).defaultUrlRedirect, {
                httpsRedirect: true,
                redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
                stripQuery: false,
            });
            assert.equal(inputs(redirect).defaultService, undefined);
            assert.equal(inputs(redirect).pathMatchers, undefined);
            // Both listen on the one global IP.
            assert.equal(inputs(https).ipAddress, inputs(http).ipAddress);
        });

        it("uses one load balancing scheme across backend services and forwarding rules", () => {
            const schemes = [...ofType(run, TYPES.backendService), ...ofType(run, TYPES.forwardingRule)].map(
                (r) => inputs(r).loadBalancingScheme,
            );
            assert.equal(schemes.length, 5);
            assert.deepEqual([...new Set(schemes)], ["EXTERNAL_MANAGED"]);
        });

        it("creates the instance group compute: COS template running the image, regional MIG with named port, autoscaler, firewall for Google's ranges", () => {
            const template = inputs(named(run, TYPES.template, "chat-api-template"));
            assert.equal(template.machineType, expected.machineType);
            assert.match(template.disks[0].sourceImage, /cos-cloud/);
            assert.match(template.metadata["user-data"], /^#cloud-config/);
            assert.match(
                template.metadata["user-data"],
                new RegExp(
                    `docker run .* -p 8080:8080 us-docker\\.pkg\\.dev/example-chat-${stack === "staging" ? "staging" : "prod"}/chat/api:1\\.4\\.2`,
                ),
            );
            const mig = inputs(named(run, TYPES.mig, "chat-api-mig"));
            assert.deepEqual(mig.namedPorts, [{ name: "http", port: 8080 }]);
            const scaler = inputs(named(run, TYPES.autoscaler, "chat-api-autoscaler"));
            assert.equal(scaler.autoscalingPolicy.minReplicas, expected.minReplicas);
            assert.equal(scaler.autoscalingPolicy.maxReplicas, expected.maxReplicas);
            assert.deepEqual(mig.distributionPolicyZones, ["us-central1-a", "us-central1-b", "us-central1-c"]);
            // A regional group's fixed surge must be 0 or at least its zone count: exactly the count.
            assert.equal(mig.updatePolicy.maxSurgeFixed, 3);
            assert.equal(mig.updatePolicy.maxUnavailableFixed, 0);
            // Neither the group nor the autoscaler removes VMs holding day-long sockets at will:
            // no rebalancing across zones, and at most one VM scaled in an hour by default.
            assert.equal(mig.updatePolicy.instanceRedistributionType, "NONE");
            assert.deepEqual(scaler.autoscalingPolicy.scaleInControl, {
                maxScaledInReplicas: { fixed: 1 },
                timeWindowSec: 3600,
            });
            const firewall = inputs(named(run, TYPES.firewall, "chat-api-allow-google-proxies"));
            assert.deepEqual(firewall.sourceRanges, ["130.211.0.0/22", "35.191.0.0/16"]);
            assert.deepEqual(firewall.allows, [{ protocol: "tcp", ports: ["8080"] }]);
            assert.deepEqual(firewall.targetTags, template.tags);
        });

        it("exports the IP, the wss:// URLs per domain, backend service names and the URL map name", () => {
            const map = named(run, TYPES.urlMap, "chat-https");
            assert.match(String(run.outputs.ipAddress), /^\d+\.\d+\.\d+\.\d+$/);
            const urls = run.outputs.websocketUrls as Record<string, string[]>;
            assert.deepEqual(Object.keys(urls), expected.domains);
            for (const domain of expected.domains) {
                assert.ok(urls[domain].includes(`wss://${domain}/ws`));
                assert.ok(urls[domain].includes(`wss://${domain}/websocket`));
            }
            const names = run.outputs.backendServiceNames as Record<string, string>;
            assert.deepEqual(Object.keys(names).sort(), ["api", "auth", "frontend"]);
            assert.equal(names.api, named(run, TYPES.backendService, "chat-api-backend").id.split("/").pop());
            assert.equal(run.outputs.urlMapName, map.id.split("/").pop());
            assert.deepEqual(Object.keys(run.outputs.cloudRunRevisions as object).sort(), ["auth", "frontend"]);
        });

        it("gives the instance-group region a Cloud Router and Cloud NAT, since the VMs have no external IP", () => {
            assert.deepEqual(
                ofType(run, TYPES.router).map((r) => r.name),
                ["chat-us-central1-router"],
            );
            const router = inputs(named(run, TYPES.router, "chat-us-central1-router"));
            assert.deepEqual([router.network, router.region], ["default", "us-central1"]);
            const [nat] = ofType(run, TYPES.routerNat);
            assert.equal(nat.name, "chat-us-central1-nat");
            assert.deepEqual(
                dependedOnBy(run, nat, "router").map((r) => r.name),
                ["chat-us-central1-router"],
            );
            assert.equal(inputs(nat).region, "us-central1");
            assert.equal(inputs(nat).natIpAllocateOption, "AUTO_ONLY");
            assert.equal(inputs(nat).sourceSubnetworkIpRangesToNat, "ALL_SUBNETWORKS_ALL_IP_RANGES");
            assert.deepEqual(ofType(run, TYPES.subnetwork), []);
        });

        it("runs the VMs as their own service account with exactly three roles, the cloud-platform scope and no external IP", () => {
            // The synthetic monitor's function has an account of its own; the VMs' is lb-api-vm.
            const vmAccounts = ofType(run, TYPES.serviceAccount).filter((a) =>
                String(inputs(a).accountId).startsWith("lb-"),
            );
            assert.deepEqual(
                vmAccounts.map((a) => inputs(a).accountId),
                ["lb-api-vm"],
            );
            const email = `lb-api-vm@${expected.project}.iam.gserviceaccount.com`;
            const bindings = ofType(run, TYPES.projectIamMember)
                .map((b) => inputs(b))
                .filter((b) => b.member === `serviceAccount:${email}`);
            assert.deepEqual(bindings.map((b) => b.role).sort(), [
                "roles/artifactregistry.reader",
                "roles/logging.logWriter",
                "roles/monitoring.metricWriter",
            ]);
            for (const binding of bindings) {
                assert.equal(binding.member, `serviceAccount:${email}`);
                // The image lives in the stack's own project, so every role is granted there.
                assert.equal(binding.project, expected.project);
            }
            const template = inputs(named(run, TYPES.template, "chat-api-template"));
            assert.deepEqual(template.serviceAccount, { email, scopes: ["cloud-platform"] });
            assert.equal(template.networkInterfaces.length, 1);
            assert.equal(template.networkInterfaces[0].accessConfigs, undefined);
            assert.deepEqual(template.networkInterfaces[0].network, "default");
        });
    });
}

describe("infrastructure: network and egress settings", () => {
    const backends = (api: Record<string, unknown>) =>
        `backends=${JSON.stringify({ api: { kind: "instanceGroup", websocket: true, image: "us-docker.pkg.dev/shared-registry/chat/api:1", region: "us-east1", ...api } })}`;

    it("with egress privateGoogleAccess creates a subnet with Private Google Access instead of a NAT, and attaches the VMs to it", async () => {
        const run = await runStack("staging", [
            backends({ egress: "privateGoogleAccess", subnetCidr: "10.201.0.0/24" }),
        ]);
        assert.deepEqual(ofType(run, TYPES.routerNat), []);
        assert.deepEqual(ofType(run, TYPES.router), []);
        const subnet = named(run, TYPES.subnetwork, "chat-api-subnet");
        assert.deepEqual(
            [
                subnet.inputs.network,
                subnet.inputs.region,
                subnet.inputs.ipCidrRange,
                subnet.inputs.privateIpGoogleAccess,
            ],
            ["default", "us-east1", "10.201.0.0/24", true],
        );
        const template = named(run, TYPES.template, "chat-api-template").inputs as Props;
        assert.equal(template.networkInterfaces[0].subnetwork, subnet.id);
    });

    it("uses an existing shared-VPC network and subnet when named, and NATs only that subnet", async () => {
        const network = "projects/host-project/global/networks/shared";
        const subnetwork = "projects/host-project/regions/us-east1/subnetworks/chat";
        const run = await runStack("staging", [backends({ network, subnetwork })]);
        const template = named(run, TYPES.template, "chat-api-template").inputs as Props;
        assert.deepEqual(template.networkInterfaces, [{ network, subnetwork }]);
        assert.equal(named(run, TYPES.firewall, "chat-api-allow-google-proxies").inputs.network, network);
        const nat = named(run, TYPES.routerNat, "chat-us-east1-nat").inputs as Props;
        assert.equal(nat.sourceSubnetworkIpRangesToNat, "LIST_OF_SUBNETWORKS");
        assert.deepEqual(nat.subnetworks, [{ name: subnetwork, sourceIpRangesToNats: ["ALL_IP_RANGES"] }]);
    });

    it("NATs the whole network when a subnet is named without its self link, which the NAT's subnet list needs", async () => {
        const run = await runStack("staging", [backends({ subnetwork: "chat" })]);
        const nat = named(run, TYPES.routerNat, "chat-us-east1-nat").inputs as Props;
        assert.deepEqual(
            [nat.sourceSubnetworkIpRangesToNat, nat.subnetworks],
            ["ALL_SUBNETWORKS_ALL_IP_RANGES", undefined],
        );
        assert.equal(
            (named(run, TYPES.template, "chat-api-template").inputs as Props).networkInterfaces[0].subnetwork,
            "chat",
        );
    });

    it("with egress none creates neither NAT nor subnet (the host project provides egress)", async () => {
        const run = await runStack("staging", [backends({ egress: "none" })]);
        assert.deepEqual(
            [...ofType(run, TYPES.router), ...ofType(run, TYPES.routerNat), ...ofType(run, TYPES.subnetwork)],
            [],
        );
    });

    it("grants the registry reader role in the image's own project, and pins us-east1's zones (it has no zone a)", async () => {
        const run = await runStack("staging", [backends({})]);
        const reader = ofType(run, TYPES.projectIamMember)
            .map((b) => b.inputs as Props)
            .find((b) => b.role === "roles/artifactregistry.reader");
        assert.equal(reader?.project, "shared-registry");
        const mig = named(run, TYPES.mig, "chat-api-mig").inputs as Props;
        assert.deepEqual(mig.distributionPolicyZones, ["us-east1-b", "us-east1-c", "us-east1-d"]);
        assert.equal(mig.updatePolicy.maxSurgeFixed, 3);
    });

    it("takes the autoscaler's scale-in control from config: 0 stops scale-in, the window is the autoscaler's look-back", async () => {
        const run = await runStack("staging", [backends({ scaleInMaxReplicas: 0, scaleInWindowSec: 600 })]);
        const scaler = named(run, TYPES.autoscaler, "chat-api-autoscaler").inputs as Props;
        assert.deepEqual(scaler.autoscalingPolicy.scaleInControl, {
            maxScaledInReplicas: { fixed: 0 },
            timeWindowSec: 600,
        });
    });

    it("derives the surge from configured zones", async () => {
        const run = await runStack("staging", [backends({ zones: ["us-east1-b", "us-east1-c"] })]);
        const mig = named(run, TYPES.mig, "chat-api-mig").inputs as Props;
        assert.deepEqual(
            [mig.distributionPolicyZones, mig.updatePolicy.maxSurgeFixed],
            [["us-east1-b", "us-east1-c"], 2],
        );
    });
});

describe("infrastructure: a rollback's pinned Cloud Run revision", () => {
    it("sends all of a Cloud Run backend's traffic to the pinned revision", async () => {
        const run = await runStack("staging", [
            `backends=${JSON.stringify({
                api: { kind: "instanceGroup", websocket: true, image: "example/api:1", region: "us-central1" },
                auth: {
                    kind: "cloudRun",
                    paths: ["/auth", "/auth/*"],
                    image: "example/auth:1",
                    region: "us-central1",
                    pinnedRevision: "chat-auth-run-00007-abc",
                },
            })}`,
        ]);
        const service = named(run, TYPES.cloudRun, "chat-auth-run");
        assert.deepEqual((service.inputs as Props).traffics, [
            { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "chat-auth-run-00007-abc", percent: 100 },
        ]);
    });
});
