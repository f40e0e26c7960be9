import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { requireTools, ROOT, show, Workspace } from "./harness";

interface ConfigEntry {
    value: string;
    objectValue?: unknown;
    secret: boolean;
}

describe("engine: the config schema in Pulumi.yaml under the real CLI", function () {
    this.timeout(900_000);
    let ws: Workspace;

    before(async function () {
        requireTools(this);
        ws = Workspace.create("config", {
            staging: path.join(ROOT, "Pulumi.staging.yaml"),
            production: path.join(ROOT, "Pulumi.production.yaml"),
        });
        await ws.initStacks(["staging", "production"]);
    });

    after(() => ws?.remove());

    for (const stack of ["staging", "production"]) {
        it(`${stack}: the CLI accepts the stack against the typed schema, backends as an object and requestHeaders as an array of objects`, async () => {
            const result = await ws.pulumi(["config", "--json", "--stack", stack]);
            assert.equal(result.code, 0, show(result));
            const config = JSON.parse(result.stdout) as Record<string, ConfigEntry>;
            const backends = config["websocket-lb:backends"].objectValue as Record<string, { kind: string }>;
            assert.deepEqual(Object.keys(backends).sort(), ["api", "auth", "frontend"]);
            assert.equal(backends.api.kind, "instanceGroup");
            // The default from Pulumi.yaml, typed as the schema says.
            assert.deepEqual(config["websocket-lb:requestHeaders"].objectValue, [
                { name: "X-Forwarded-Proto", value: "https", replace: true },
                { name: "X-WebSocket-Upgrade", value: "true", replace: true },
            ]);
        });
    }

    it("the CLI refuses a value of the wrong type before the program runs", async () => {
        // `--config` also saves the value into the stack file: this spoils production's copy only.
        const result = await ws.pulumi(["preview", "--stack", "production", "--config", "websocket-lb:backends=api"]);
        assert.notEqual(result.code, 0, show(result));
        assert.match(
            result.stdout + result.stderr,
            /Stack 'production' with configuration key 'backends' must be of type 'object'/,
        );
    });

    it("pulumi config set --path 'backends.api.maxReplicas' 8 sets one field as a number, and the program uses it", async () => {
        const set = await ws.pulumi(["config", "set", "--path", "backends.api.maxReplicas", "8", "--stack", "staging"]);
        assert.equal(set.code, 0, show(set));
        const file = parse(fs.readFileSync(ws.stackFile("staging"), "utf8")) as {
            config: Record<string, Record<string, Record<string, unknown>>>;
        };
        const original = parse(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")) as typeof file;
        const api = file.config["websocket-lb:backends"].api;
        assert.strictEqual(api.maxReplicas, 8);
        assert.deepEqual(
            { ...api, maxReplicas: 4 },
            original.config["websocket-lb:backends"].api,
            "other fields of backends.api changed",
        );
        assert.deepEqual(file.config["websocket-lb:backends"].auth, original.config["websocket-lb:backends"].auth);

        const preview = await ws.previewWithEvents(["--stack", "staging"]);
        assert.equal(preview.code, 0, show(preview));
        const autoscaler = preview.events.find(
            (e) => e.resourcePreEvent?.metadata.type === "gcp:compute/regionAutoscaler:RegionAutoscaler",
        );
        const policy = autoscaler?.resourcePreEvent?.metadata.new?.inputs?.autoscalingPolicy as
            { maxReplicas?: number } | undefined;
        assert.equal(policy?.maxReplicas, 8);
    });
});
