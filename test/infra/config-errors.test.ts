import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ofType, ProgramError, RecordedResource, runStack, TYPES } from "../helpers/stack";

const cloudRunWebsocketBackends = JSON.stringify({
    chat: {
        kind: "cloudRun",
        websocket: true,
        image: "us-docker.pkg.dev/example/chat/ws:1",
        region: "us-central1",
        requestTimeoutSec: 3600,
    },
});

/**
 * Runs staging with overrides and returns the program's error, checking on the way that the
 * stack resource is all that got registered.
 */
async function programError(overrides: string[], stackFile?: string): Promise<string> {
    const registered: RecordedResource[] = [];
    try {
        const run = await runStack("staging", overrides, stackFile);
        registered.push(...run.resources);
    } catch (e) {
        assert.ok(e instanceof ProgramError, `expected a ProgramError, got ${String(e)}`);
        assert.deepEqual(
            e.resources.filter((r) => r.type !== TYPES.stack).map((r) => r.type),
            [],
            "resources were registered before the configuration error",
        );
        return e.message;
    }
    assert.fail(`the program accepted ${overrides.join(" ")} and registered ${registered.length} resources`);
}

describe("infrastructure: invalid configuration stops the program before any resource", () => {
    const cases: Array<[string, string[], RegExp[]]> = [
        [
            "a backend timeout under the minimum",
            ["backendTimeoutSec=0"],
            [/websocket-lb:backendTimeoutSec is 0; allowed: an integer from 1 to 86400/],
        ],
        [
            "a backend timeout over 86400",
            ["backendTimeoutSec=86401"],
            [/backendTimeoutSec is 86401; allowed: an integer from 1 to 86400 \(Google advises against more/],
        ],
        [
            "a route timeout over 86400",
            ["websocketTimeoutSec=172800"],
            [/websocketTimeoutSec is 172800; allowed: an integer from 0 to 86400/],
        ],
        [
            "scale-in controls out of bounds",
            [
                `backends=${JSON.stringify({ api: { kind: "instanceGroup", websocket: true, image: "i:1", region: "us-central1", scaleInMaxReplicas: -1, scaleInWindowSec: 86400 } })}`,
            ],
            [
                /backends\.api\.scaleInMaxReplicas is -1; allowed: an integer from 0 to 1000/,
                /backends\.api\.scaleInWindowSec is 86400; allowed: an integer from 60 to 3600/,
            ],
        ],
        [
            "a negative affinity TTL",
            ["sessionAffinityTtlSec=-1"],
            [/sessionAffinityTtlSec is -1; allowed: an integer from 0 to 1209600/],
        ],
        [
            "an unknown affinity",
            ["sessionAffinity=STICKY"],
            [/sessionAffinity is "STICKY"; allowed: NONE, CLIENT_IP, GENERATED_COOKIE, STRONG_COOKIE_AFFINITY$/m],
        ],
        [
            "CLIENT_IP_PROTO, which HTTP(S) load balancers refuse",
            ["sessionAffinity=CLIENT_IP_PROTO"],
            [
                /websocket-lb:sessionAffinity is "CLIENT_IP_PROTO"; HTTP\(S\) load balancers refuse it; allowed: NONE, CLIENT_IP, GENERATED_COOKIE, STRONG_COOKIE_AFFINITY$/m,
            ],
        ],
        [
            "CLIENT_IP_PORT_PROTO",
            ["sessionAffinity=CLIENT_IP_PORT_PROTO"],
            [/sessionAffinity is "CLIENT_IP_PORT_PROTO"; HTTP\(S\) load balancers refuse it/],
        ],
        [
            "an HTTP route timeout over 86400",
            ["httpTimeoutSec=90000"],
            [/websocket-lb:httpTimeoutSec is 90000; allowed: an integer from 0 to 86400 \(0 sets no route timeout\)/],
        ],
        [
            "a deletionProtection that is not a boolean",
            ["deletionProtection=maybe"],
            [/websocket-lb:deletionProtection is "maybe"; allowed: true or false/],
        ],
        [
            "an alert rate of 0 timeout errors a minute",
            ["alertTimeoutErrorsPerMinute=0"],
            [/alertTimeoutErrorsPerMinute is 0; allowed: an integer from 1 to 1000000 \(requests a minute\)/],
        ],
        [
            "a path that does not start with /",
            ['websocketPaths=["ws"]'],
            [/websocketPaths is "ws"; that path does not start with \//],
        ],
        [
            "a * that is not right after a final /",
            ['websocketPaths=["/ws", "/ws*"]'],
            [/websocketPaths is "\/ws\*"; that path has \* somewhere other than right after a final \//],
        ],
        [
            "a * in the middle of a path",
            ['websocketPaths=["/ws", "/ws/*/x"]'],
            [/websocketPaths is "\/ws\/\*\/x"; that path has \*/],
        ],
        [
            "/x/* without /x",
            ['websocketPaths=["/ws/*"]'],
            [/websocketPaths is "\/ws\/\*"; \/ws\/\* does not match \/ws itself; add "\/ws" to the list too/],
        ],
        [
            "a route timeout on the classic EXTERNAL scheme",
            ["loadBalancingScheme=EXTERNAL", "requestHeaders=[]"],
            [
                /websocketTimeoutSec is 86400; the classic EXTERNAL scheme supports no routeAction.timeout; set 0 or use EXTERNAL_MANAGED/,
                /httpTimeoutSec is 30; the classic EXTERNAL scheme supports no routeAction.timeout; set 0 or use EXTERNAL_MANAGED/,
            ],
        ],
        [
            "a header action on the classic EXTERNAL scheme",
            ["loadBalancingScheme=EXTERNAL", "websocketTimeoutSec=0", "httpTimeoutSec=0"],
            [
                /requestHeaders is \["X-Forwarded-Proto","X-WebSocket-Upgrade"\]; the classic EXTERNAL scheme supports no headerAction/,
            ],
        ],
        [
            "WebSocket paths on a cloudRun backend while websocketTimeoutSec exceeds 3600",
            [`backends=${cloudRunWebsocketBackends}`],
            [
                /websocketTimeoutSec is 86400; backend chat is cloudRun and serves the WebSocket paths, and Cloud Run ends a WebSocket at its request timeout \(at most 3600 s\); allowed: at most 3600/,
            ],
        ],
        [
            "a misspelled backend field, naming the closest valid one",
            [
                `backends=${JSON.stringify({ api: { kind: "instanceGroup", websocket: true, image: "i:1", region: "us-central1", machineTyp: "e2-small" } })}`,
            ],
            [
                /websocket-lb:backends\.api\.machineTyp is not a field of an instanceGroup backend; did you mean machineType\?/,
            ],
        ],
        [
            "a field of another kind on a backend",
            [
                `backends=${JSON.stringify({ chat: { kind: "cloudRun", websocket: true, image: "i:1", region: "us-central1", maxReplicas: 3 } })}`,
            ],
            [
                /backends\.chat\.maxReplicas is not a field of a cloudRun backend \(fields: kind, paths, websocket, image, region, requestTimeoutSec, minInstances, maxInstances/,
            ],
        ],
        [
            "backends without a websocket: true backend, naming them rather than printing []",
            [`backends=${JSON.stringify({ api: { kind: "instanceGroup", image: "i:1", region: "us-central1" } })}`],
            [
                /websocket-lb:backends has no backend with websocket: true \(backends: api\); exactly one backend must set websocket: true/,
            ],
        ],
        [
            "an alert email that is not an address",
            ['alertEmails=["oncall"]'],
            [/websocket-lb:alertEmails is "oncall"; allowed: email addresses such as oncall@example.com/],
        ],
        [
            "an alert percent of 0",
            ["alert5xxPercent=0"],
            [/alert5xxPercent is 0; allowed: an integer from 1 to 100 \(percent\)/],
        ],
        [
            "a paging webhook that is not https",
            ["pagingWebhookUrl=http://paging.example.com/x"],
            [/pagingWebhookUrl is "http:\/\/paging.example.com\/x"; allowed: an https:\/\/ URL/],
        ],
        [
            "a Connection header, which the API rejects",
            ['requestHeaders=[{"name":"Connection","value":"upgrade","replace":true}]'],
            [/requestHeaders\[0\]\.name is "Connection"; that header is hop-by-hop: the API rejects it/],
        ],
        [
            "a number too large for a double, echoed as given (JSON reads it as Infinity)",
            ["backendTimeoutSec=1e400"],
            [/websocket-lb:backendTimeoutSec is "1e400"; allowed: an integer from 1 to 86400/],
        ],
        [
            "a misspelled key inside a requestHeaders entry, with the closest one",
            ['requestHeaders=[{"name":"X-Forwarded-Proto","value":"https","replce":true}]'],
            [
                /websocket-lb:requestHeaders\[0\]\.replce is true; unknown key; allowed: name, value, replace; did you mean replace\?/,
            ],
        ],
        [
            "an unknown key inside a header entry that is otherwise whole",
            ['requestHeaders=[{"name":"X-Forwarded-Proto","value":"https","replace":true,"append":false}]'],
            [/websocket-lb:requestHeaders\[0\]\.append is false; unknown key; allowed: name, value, replace$/m],
        ],
        [
            "a misspelled team in alertRoutes, with the closest one",
            [`alertRoutes=${JSON.stringify({ operation: ["email:ops@example.com"] })}`],
            [
                /websocket-lb:alertRoutes\.operation is \["email:ops@example.com"\]; no such team; did you mean operations\?/,
            ],
        ],
        [
            "a misspelled key in syntheticMonitor, with the closest one",
            [`syntheticMonitor=${JSON.stringify({ enabled: true, perodSec: 60 })}`],
            [/websocket-lb:syntheticMonitor\.perodSec is 60; unknown key; allowed: .*; did you mean periodSec\?/],
        ],
    ];

    for (const [what, overrides, patterns] of cases) {
        it(`rejects ${what}`, async () => {
            const message = await programError(overrides);
            for (const pattern of patterns) {
                assert.match(message, pattern);
            }
        });
    }

    const api = (fields: Record<string, unknown>) =>
        `backends=${JSON.stringify({ api: { kind: "instanceGroup", websocket: true, image: "example/api:1", region: "us-central1", ...fields } })}`;
    const networkCases: Array<[string, string[], RegExp]> = [
        [
            "an unknown egress",
            [api({ egress: "internet" })],
            /backends\.api\.egress is "internet"; allowed: nat, privateGoogleAccess, none/,
        ],
        [
            "privateGoogleAccess beside an existing subnet",
            [api({ egress: "privateGoogleAccess", subnetwork: "chat" })],
            /backends\.api\.subnetwork is "chat"; egress privateGoogleAccess creates its own subnet with Private Google Access; to use an existing subnet, turn Private Google Access on for it and set egress none \(or nat\)/,
        ],
        [
            "a subnet range that is not a CIDR",
            [api({ egress: "privateGoogleAccess", subnetCidr: "10.0.0.0/33" })],
            /backends\.api\.subnetCidr is "10.0.0.0\/33"; allowed: an IPv4 range such as 10.200.0.0\/24 \(prefix \/8 to \/29\)/,
        ],
        [
            "a zone outside the region",
            [api({ zones: ["us-east1-b"] })],
            /backends\.api\.zones is "us-east1-b"; allowed: zones of region us-central1, such as us-central1-b/,
        ],
        [
            "a zone listed twice",
            [api({ zones: ["us-central1-a", "us-central1-a"] })],
            /backends\.api\.zones is "us-central1-a"; that zone is listed twice/,
        ],
        [
            "a region whose zones the program does not know, without zones",
            [api({ region: "me-west1" })],
            /backends\.api\.zones is unset; required for region me-west1, whose zones this program does not know; allowed: a list of zones of me-west1/,
        ],
    ];
    networkCases.push([
        "a misspelled key in a secretEnv reference, with the closest one",
        [api({ secretEnv: { DB_PASSWORD: { secret: "db-password", verison: "2" } } })],
        /backends\.api\.secretEnv\.DB_PASSWORD\.verison is "2"; unknown key; allowed: secret, version; did you mean version\?/,
    ]);
    for (const [what, overrides, pattern] of networkCases) {
        it(`rejects ${what}`, async () => {
            assert.match(await programError(overrides), pattern);
        });
    }

    it("rejects two created subnets whose ranges overlap in one network", async () => {
        const backends = {
            api: {
                kind: "instanceGroup",
                websocket: true,
                image: "example/api:1",
                region: "us-central1",
                egress: "privateGoogleAccess",
                subnetCidr: "10.200.0.0/16",
            },
            chat: {
                kind: "instanceGroup",
                paths: ["/chat"],
                image: "example/chat:1",
                region: "us-east1",
                egress: "privateGoogleAccess",
                subnetCidr: "10.200.5.0/24",
            },
        };
        assert.match(
            await programError([`backends=${JSON.stringify(backends)}`]),
            /backends\.chat\.subnetCidr is "10.200.5.0\/24"; that range overlaps api's 10.200.0.0\/16 in network default/,
        );
    });

    it("rejects missing domains, naming the key and an example", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-lb-"));
        const stackFile = path.join(dir, "Pulumi.nodomains.yaml");
        const staging = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.staging.yaml"), "utf8");
        fs.writeFileSync(stackFile, staging.replace(/ {2}websocket-lb:domains:\n {4}- staging.chat.example.com\n/, ""));
        const message = await programError([], stackFile);
        assert.match(message, /websocket-lb:domains is unset; required: a list of host names/);
    });

    it("reports every problem at once", async () => {
        const message = await programError([
            "backendTimeoutSec=0",
            "sessionAffinity=STICKY",
            "sessionAffinityTtlSec=-5",
        ]);
        assert.equal(message.split("\n  - ").length - 1, 3);
    });

    it("accepts the classic EXTERNAL scheme once route timeouts and headers are off, and then sets none of them nor a locality policy", async () => {
        const run = await runStack("staging", [
            "loadBalancingScheme=EXTERNAL",
            "websocketTimeoutSec=0",
            "httpTimeoutSec=0",
            "requestHeaders=[]",
        ]);
        const [map] = ofType(run, TYPES.urlMap).filter((r) => r.name === "chat-https");
        const matcher = (map.inputs.pathMatchers as Array<Record<string, unknown>>)[0];
        assert.equal(matcher.headerAction, undefined);
        assert.equal(matcher.defaultRouteAction, undefined);
        assert.equal(map.inputs.defaultRouteAction, undefined);
        // The classic backend service takes no localityLbPolicy.
        assert.equal(
            ofType(run, TYPES.backendService).find((r) => r.name === "chat-api-backend")?.inputs.localityLbPolicy,
            undefined,
        );
        for (const rule of matcher.pathRules as Array<Record<string, unknown>>) {
            assert.equal(rule.routeAction, undefined);
        }
        for (const service of ofType(run, TYPES.backendService)) {
            assert.equal(service.inputs.loadBalancingScheme, "EXTERNAL");
        }
    });
});
