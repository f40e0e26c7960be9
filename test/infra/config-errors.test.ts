import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramError, RecordedResource } from "../../preview";
import { ofType, runStack, TYPES } from "../helpers/stack";

const cloudRunWebsocketBackends = JSON.stringify({
    chat: { kind: "cloudRun", websocket: true, image: "us-docker.pkg.dev/example/chat/ws:1", region: "us-central1", requestTimeoutSec: 3600 },
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
        ["a backend timeout under the minimum", ["backendTimeoutSec=0"], [/websocket-lb:backendTimeoutSec is 0; allowed: an integer from 1 to 86400/]],
        ["a backend timeout over 86400", ["backendTimeoutSec=86401"], [/backendTimeoutSec is 86401; allowed: an integer from 1 to 86400 \(Google advises against more/]],
        ["a route timeout over 86400", ["websocketTimeoutSec=172800"], [/websocketTimeoutSec is 172800; allowed: an integer from 0 to 86400/]],
        ["a negative affinity TTL", ["sessionAffinityTtlSec=-1"], [/sessionAffinityTtlSec is -1; allowed: an integer from 0 to 1209600/]],
        ["an unknown affinity", ["sessionAffinity=STICKY"], [/sessionAffinity is "STICKY"; allowed: NONE, CLIENT_IP, CLIENT_IP_PORT_PROTO, CLIENT_IP_PROTO, GENERATED_COOKIE, STRONG_COOKIE_AFFINITY/]],
        ["a path that does not start with /", ['websocketPaths=["ws"]'], [/websocketPaths is "ws"; that path does not start with \//]],
        ["a * that is not right after a final /", ['websocketPaths=["/ws", "/ws*"]'], [/websocketPaths is "\/ws\*"; that path has \* somewhere other than right after a final \//]],
        ["a * in the middle of a path", ['websocketPaths=["/ws", "/ws/*/x"]'], [/websocketPaths is "\/ws\/\*\/x"; that path has \*/]],
        ["/x/* without /x", ['websocketPaths=["/ws/*"]'], [/websocketPaths is "\/ws\/\*"; \/ws\/\* does not match \/ws itself; add "\/ws" to the list too/]],
        [
            "a route timeout on the classic EXTERNAL scheme",
            ["loadBalancingScheme=EXTERNAL", "requestHeaders=[]"],
            [/websocketTimeoutSec is 86400; the classic EXTERNAL scheme supports no routeAction.timeout; set 0 or use EXTERNAL_MANAGED/],
        ],
        [
            "a header action on the classic EXTERNAL scheme",
            ["loadBalancingScheme=EXTERNAL", "websocketTimeoutSec=0"],
            [/requestHeaders is \["X-Forwarded-Proto","X-WebSocket-Upgrade"\]; the classic EXTERNAL scheme supports no headerAction/],
        ],
        [
            "WebSocket paths on a cloudRun backend while websocketTimeoutSec exceeds 3600",
            [`backends=${cloudRunWebsocketBackends}`],
            [/websocketTimeoutSec is 86400; backend chat is cloudRun and serves the WebSocket paths, and Cloud Run ends a WebSocket at its request timeout \(at most 3600 s\); allowed: at most 3600/],
        ],
        [
            "a misspelled backend field, naming the closest valid one",
            [`backends=${JSON.stringify({ api: { kind: "instanceGroup", websocket: true, image: "i:1", region: "us-central1", machineTyp: "e2-small" } })}`],
            [/websocket-lb:backends\.api\.machineTyp is not a field of an instanceGroup backend; did you mean machineType\?/],
        ],
        [
            "a field of another kind on a backend",
            [`backends=${JSON.stringify({ chat: { kind: "cloudRun", websocket: true, image: "i:1", region: "us-central1", maxReplicas: 3 } })}`],
            [/backends\.chat\.maxReplicas is not a field of a cloudRun backend \(fields: kind, paths, websocket, image, region, requestTimeoutSec, minInstances, maxInstances/],
        ],
        [
            "backends without a websocket: true backend, naming them rather than printing []",
            [`backends=${JSON.stringify({ api: { kind: "instanceGroup", image: "i:1", region: "us-central1" } })}`],
            [/websocket-lb:backends has no backend with websocket: true \(backends: api\); exactly one backend must set websocket: true/],
        ],
        ["an alert email that is not an address", ['alertEmails=["oncall"]'], [/websocket-lb:alertEmails is "oncall"; allowed: email addresses such as oncall@example.com/]],
        ["an alert percent of 0", ["alert5xxPercent=0"], [/alert5xxPercent is 0; allowed: an integer from 1 to 100 \(percent\)/]],
        ["a paging webhook that is not https", ["pagingWebhookUrl=http://paging.example.com/x"], [/pagingWebhookUrl is "http:\/\/paging.example.com\/x"; allowed: an https:\/\/ URL/]],
        [
            "a Connection header, which the API rejects",
            ['requestHeaders=[{"name":"Connection","value":"upgrade","replace":true}]'],
            [/requestHeaders\[0\]\.name is "Connection"; that header is hop-by-hop: the API rejects it/],
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

    it("rejects missing domains, naming the key and an example", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-lb-"));
        const stackFile = path.join(dir, "Pulumi.nodomains.yaml");
        const staging = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.staging.yaml"), "utf8");
        fs.writeFileSync(stackFile, staging.replace(/ {2}websocket-lb:domains:\n {4}- staging.chat.example.com\n/, ""));
        const message = await programError([], stackFile);
        assert.match(message, /websocket-lb:domains is unset; required: a list of host names/);
    });

    it("reports every problem at once", async () => {
        const message = await programError(["backendTimeoutSec=0", "sessionAffinity=STICKY", "sessionAffinityTtlSec=-5"]);
        assert.equal(message.split("\n  - ").length - 1, 3);
    });

    it("accepts the classic EXTERNAL scheme once route timeout and headers are off, and then sets neither", async () => {
        const run = await runStack("staging", ["loadBalancingScheme=EXTERNAL", "websocketTimeoutSec=0", "requestHeaders=[]"]);
        const [map] = ofType(run, TYPES.urlMap).filter((r) => r.name === "chat-https");
        const matcher = (map.inputs.pathMatchers as Array<Record<string, unknown>>)[0];
        assert.equal(matcher.headerAction, undefined);
        for (const rule of matcher.pathRules as Array<Record<string, unknown>>) {
            assert.equal(rule.routeAction, undefined);
        }
        for (const service of ofType(run, TYPES.backendService)) {
            assert.equal(service.inputs.loadBalancingScheme, "EXTERNAL");
        }
    });
});
