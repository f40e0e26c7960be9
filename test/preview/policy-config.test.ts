import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    PackInfo,
    resolvePolicyConfig,
    stackPolicyConfigDocument,
    stackPolicySettings,
    StackConfig,
    withStackPolicyConfig,
} from "../../preview";
import { ROOT } from "../helpers/cli";

const PATHS = { type: "array", items: { type: "string" }, default: ["/ws", "/ws/*"] };
const INFO: PackInfo = {
    name: "pack",
    version: "1",
    policies: [
        { name: "with-paths", level: "mandatory", configSchema: { websocketPaths: PATHS } },
        {
            name: "without-paths",
            level: "advisory",
            configSchema: { minTimeoutSec: { type: "integer", default: 86400 } },
        },
    ],
} as unknown as PackInfo;

function stack(config: Record<string, string>): StackConfig {
    return { project: "websocket-lb", stack: "s", projectDir: ".", config, secretKeys: [], notices: [] };
}

describe("preview: the stack's own pack settings", () => {
    it("takes websocketPaths from the stack's config, and nothing from a value the program would refuse", () => {
        const chat = stack({ "websocket-lb:websocketPaths": '["/chat","/chat/*"]' });
        assert.deepEqual(stackPolicySettings(chat), { websocketPaths: ["/chat", "/chat/*"] });
        for (const bad of ["not json", "[]", '"/chat"', "[1]"]) {
            assert.deepEqual(stackPolicySettings(stack({ "websocket-lb:websocketPaths": bad })), {}, bad);
        }
        assert.deepEqual(stackPolicySettings(stack({})), {});
    });

    it("puts them over the schema default, under the --policy-pack-config file, for the policies that take them", () => {
        const fromStack = { websocketPaths: ["/chat", "/chat/*"] };
        const resolved = resolvePolicyConfig(INFO, undefined, fromStack);
        assert.deepEqual(resolved["with-paths"].properties, { websocketPaths: ["/chat", "/chat/*"] });
        assert.deepEqual(resolved["without-paths"].properties, { minTimeoutSec: 86400 });

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-test-"));
        try {
            const file = path.join(dir, "config.json");
            fs.writeFileSync(file, JSON.stringify({ "with-paths": { websocketPaths: ["/given"] } }));
            assert.deepEqual(resolvePolicyConfig(INFO, file, fromStack)["with-paths"].properties, {
                websocketPaths: ["/given"],
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("writes the same as a --policy-pack-config document for the Pulumi CLI", () => {
        assert.deepEqual(
            stackPolicyConfigDocument(INFO, stack({ "websocket-lb:websocketPaths": '["/chat","/chat/*"]' })),
            { "with-paths": { websocketPaths: ["/chat", "/chat/*"] } },
        );
    });

    it("hands the Pulumi CLI a config file from the real pack and the stack, and removes it afterwards", async function () {
        this.timeout(120_000);
        let seen: string | undefined;
        const document = await withStackPolicyConfig(ROOT, "staging", path.join(ROOT, "policies"), (file) => {
            seen = file;
            return Promise.resolve(
                JSON.parse(fs.readFileSync(file!, "utf8")) as Record<string, { websocketPaths: string[] }>,
            );
        });
        assert.deepEqual(document["enforce-websocket-lifetime"].websocketPaths, [
            "/ws",
            "/ws/*",
            "/websocket",
            "/websocket/*",
        ]);
        assert.equal(fs.existsSync(seen!), false);
    });

    it("runs on with the pack's defaults, saying why, when the stack's settings cannot be read (a rollback must not stop here)", async () => {
        const reasons: string[] = [];
        const given = await withStackPolicyConfig(
            ROOT,
            "no-such-stack",
            path.join(ROOT, "policies"),
            (file) => Promise.resolve(file),
            (reason) => reasons.push(reason),
        );
        assert.equal(given, undefined);
        assert.equal(reasons.length, 1);
        assert.match(reasons[0], /no-such-stack/);
    });
});
