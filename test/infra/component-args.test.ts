import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { parseSettings, WebSocketLoadBalancerArgs } from "../../infra";
import { settingsFromArgs } from "../../infra/component-args";
import { loadStackConfig, PROJECT_DIR } from "../helpers/stack";

/** The component's arguments in examples/yaml/Pulumi.yaml. */
function exampleArgs(): WebSocketLoadBalancerArgs {
    const program = parse(fs.readFileSync(path.join(PROJECT_DIR, "examples", "yaml", "Pulumi.yaml"), "utf8")) as {
        resources: { chat: { type: string; properties: WebSocketLoadBalancerArgs } };
    };
    assert.equal(program.resources.chat.type, "websocket-lb:index:WebSocketLoadBalancer");
    return program.resources.chat.properties;
}

/** The problems of an InputPropertiesError, as `path: reason` lines. */
function problems(args: WebSocketLoadBalancerArgs): string[] {
    try {
        settingsFromArgs(args, "chat");
    } catch (e) {
        assert.ok(pulumi.InputPropertiesError.isInstance(e), `expected an InputPropertiesError, got ${String(e)}`);
        assert.equal(e.message, "invalid arguments to WebSocketLoadBalancer chat");
        return e.errors.map((x) => `${x.propertyPath}: ${x.reason}`);
    }
    return assert.fail(`accepted ${JSON.stringify(args)}`);
}

describe("infrastructure: the component's arguments (the component package's inputs)", () => {
    it("the YAML example's arguments become exactly the staging stack's settings (same defaults, same parser)", () => {
        const staging = loadStackConfig({ projectDir: PROJECT_DIR, stack: "staging" });
        const fromConfig = parseSettings((key) => staging.config[`websocket-lb:${key}`], "websocket-lb");
        assert.deepEqual(settingsFromArgs(exampleArgs(), "chat"), fromConfig);
    });

    it("a bad argument is one problem naming the argument's path, the value and what is allowed", () => {
        assert.deepEqual(problems({ ...exampleArgs(), backendTimeoutSec: 0 }), [
            "backendTimeoutSec: is 0; allowed: an integer from 1 to 86400 (Google advises against more: GFEs restart for maintenance)",
        ]);
        const args = exampleArgs();
        const found = problems({ ...args, backends: { ...args.backends, api: { ...args.backends.api, port: 70000 } } });
        assert.deepEqual(found, ["backends.api.port: is 70000; allowed: an integer from 1 to 65535"]);
    });

    it("every problem is reported at once, and an argument the component does not take is refused by name", () => {
        const bad = { ...exampleArgs(), domains: [], sessionAffinity: "STICKY", websocketTimeout: 5 };
        const found = problems(bad as unknown as WebSocketLoadBalancerArgs);
        assert.deepEqual(
            found.map((p) => p.split(":")[0]),
            ["websocketTimeout", "sessionAffinity", "domains"],
        );
        assert.match(found[0], /^websocketTimeout: is an unknown argument; allowed: backendTimeoutSec, /);
    });

    it("required arguments left out are named", () => {
        const found = problems({} as WebSocketLoadBalancerArgs);
        assert.ok(
            found.some((p) => p.startsWith("domains: is unset; required")),
            found.join("\n"),
        );
        assert.ok(
            found.some((p) => p.startsWith("backends: is unset; required")),
            found.join("\n"),
        );
    });

    it("the paging token and PagerDuty keys arrive as secrets", async () => {
        const settings = settingsFromArgs(
            {
                ...exampleArgs(),
                pagingWebhookUrl: "https://pager.example.com/hook",
                pagingWebhookToken: "t0ken",
                pagerDutyServiceKeys: { operations: "k" },
            },
            "chat",
        );
        const { pagingWebhookToken, pagerDutyServiceKeys } = settings.monitoring;
        assert.ok(pagingWebhookToken && pagerDutyServiceKeys);
        assert.equal(await pulumi.isSecret(pagingWebhookToken), true);
        assert.equal(await pulumi.isSecret(pagerDutyServiceKeys), true);
    });
});
