import { strict as assert } from "assert";
import { loadStackConfig, ProgramError, ProgramRun, RecordedResource, runProgram } from "../../preview";
import { ofType, PROJECT_DIR, runStack } from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";
const ALERT = "gcp:monitoring/alertPolicy:AlertPolicy";
const TOPIC = "gcp:pubsub/topic:Topic";
const TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const p = (r: RecordedResource) => r.inputs as Props;

const ROUTES = {
    operations: ["email:ops@example.com", "pagerduty", "pubsub"],
    infrastructure: ["email:infra@example.com"],
    business: ["email:business@example.com"],
};

/** The staging stack with alert routes, and the PagerDuty key set as a secret (pulumi config set --secret). */
async function routedStack(overrides: string[] = []): Promise<ProgramRun> {
    const stack = loadStackConfig({
        projectDir: PROJECT_DIR,
        stack: "staging",
        overrides: [`alertRoutes=${JSON.stringify(ROUTES)}`, ...overrides],
    });
    const key = "websocket-lb:pagerDutyServiceKeys";
    return runProgram({
        ...stack,
        config: { ...stack.config, [key]: JSON.stringify({ operations: "pd-ops-key" }) },
        secretKeys: [...stack.secretKeys, key],
    });
}

describe("infrastructure: alerts page by team (alertRoutes)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await routedStack();
    });

    /** Each alert's display name to the display names of the channels it notifies. */
    function routing(of: ProgramRun): Record<string, string[]> {
        const byId = new Map(ofType(of, CHANNEL).map((c) => [c.id, String(p(c).displayName)]));
        return Object.fromEntries(
            ofType(of, ALERT).map((a) => [
                String(p(a).displayName),
                (p(a).notificationChannels as string[]).map((id) => byId.get(id) ?? id).sort(),
            ]),
        );
    }

    it("without the synthetic monitor, business gets the handshake-failure signal for chat degradation", async () => {
        const withoutMonitor = await routedStack(["syntheticMonitor=false"]);
        const routes = routing(withoutMonitor);
        assert.equal(routes["Chat functionality degradation"], undefined);
        assert.ok(routes["WebSocket handshake failure ratio"].includes("WebSocket LB business: business@example.com"));
    });

    it("routes connection and handshake failures to operations, timeout errors to infrastructure, the synthetic monitor's chat checks to business", () => {
        const ops = [
            "WebSocket LB operations: PagerDuty",
            "WebSocket LB operations: Pub/Sub operations-alerts",
            "WebSocket LB operations: ops@example.com",
        ];
        assert.deepEqual(routing(run), {
            "HTTP 5xx ratio": ops,
            "WebSocket connection failure ratio": ops,
            "WebSocket handshake failure ratio": ops,
            "Load balancer backend timeouts (HTTP requests)": ["WebSocket LB infrastructure: infra@example.com"],
            "Chat functionality degradation": ["WebSocket LB business: business@example.com"],
        });
        assert.equal(
            ofType(run, CHANNEL).filter(
                (c) => p(c).displayName === "WebSocket LB alerts: chat-staging-alerts@example.com",
            ).length,
            0,
            "alertEmails are not used once routes are set",
        );
    });

    it("keeps the PagerDuty service key a Pulumi secret in the pagerduty channel", () => {
        const [pd] = ofType(run, CHANNEL).filter((c) => p(c).type === "pagerduty");
        const key = p(pd).sensitiveLabels.serviceKey;
        assert.equal(key[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
        assert.equal(key.value, "pd-ops-key");
    });

    it("creates a Pub/Sub topic for the team, points a pubsub channel at it and lets Monitoring's service agent publish", () => {
        const [topic] = ofType(run, TOPIC);
        const [channel] = ofType(run, CHANNEL).filter((c) => p(c).type === "pubsub");
        assert.equal(p(channel).labels.topic, topic.id);
        const [member] = ofType(run, TOPIC_MEMBER);
        assert.equal(p(member).role, "roles/pubsub.publisher");
        assert.equal(
            p(member).member,
            "serviceAccount:service-000000000000@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
        );
    });

    it("names every problem in alertRoutes at once", async () => {
        const bad = {
            operations: ["email:nope", "sms:+1555"],
            marketing: ["email:m@example.com"],
            infrastructure: [],
            business: ["webhook", "email:b@example.com", "email:b@example.com"],
        };
        try {
            await runStack("staging", [`alertRoutes=${JSON.stringify(bad)}`]);
            assert.fail("accepted");
        } catch (e) {
            assert.ok(e instanceof ProgramError, String(e));
            const text = e.message;
            assert.match(
                text,
                /websocket-lb:alertRoutes\.operations is "email:nope"; allowed: "email:ADDRESS", "webhook", "pagerduty" or "pubsub"/,
            );
            assert.match(text, /alertRoutes\.operations is "sms:\+1555"/);
            assert.match(
                text,
                /alertRoutes\.marketing is \["email:m@example.com"\]; no such team; allowed: operations, infrastructure, business/,
            );
            assert.match(text, /alertRoutes\.infrastructure is \[\]; allowed: a non-empty list of channels/);
            assert.match(text, /alertRoutes\.business is "webhook"; the webhook channel needs pagingWebhookUrl/);
            assert.match(
                text,
                /alertRoutes\.business is "email:b@example.com"; that channel is listed twice for this team/,
            );
        }
    });

    it("previews a PagerDuty route without its key (a checkout, a pull request), with a secret stand-in key; pulumi up stops on it (engine tier)", async () => {
        const preview = await runStack("staging", [`alertRoutes=${JSON.stringify({ operations: ["pagerduty"] })}`]);
        const [pd] = ofType(preview, CHANNEL).filter((c) => p(c).type === "pagerduty");
        const key = p(pd).sensitiveLabels.serviceKey;
        assert.equal(key[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
        assert.equal(key.value, "(set at deploy)");
    });

    it("a PagerDuty key set for another team only is a config error naming the team", async () => {
        const stack = loadStackConfig({
            projectDir: PROJECT_DIR,
            stack: "staging",
            overrides: [`alertRoutes=${JSON.stringify({ business: ["pagerduty"] })}`],
        });
        const key = "websocket-lb:pagerDutyServiceKeys";
        await assert.rejects(
            runProgram({
                ...stack,
                config: { ...stack.config, [key]: JSON.stringify({ operations: "pd-ops-key" }) },
                secretKeys: [...stack.secretKeys, key],
            }),
            /alertRoutes\.business is "pagerduty"; the pagerduty channel needs a key for business in the secret pagerDutyServiceKeys/,
        );
    });
});
