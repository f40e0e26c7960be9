import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { SETTINGS } from "../../policies/lib/config";
import { policies } from "../../policies/policies";

// The pack as an npm package: its README is what another team reads first, so it must list what
// the pack really does; the engine tier packs, installs and runs the tarball itself.

const PACK = path.resolve(__dirname, "..", "..", "policies");
const readme = fs.readFileSync(path.join(PACK, "README.md"), "utf8");

function exampleConfig(): Record<string, Record<string, unknown>> {
    const match = /## A complete `--policy-pack-config` file[\s\S]*?```json\n([\s\S]*?)\n```/.exec(readme);
    assert.ok(match, "policies/README.md has no complete --policy-pack-config example");
    return JSON.parse(match[1]) as Record<string, Record<string, unknown>>;
}

describe("policy pack: the npm package", () => {
    it("package.json publishes the compiled pack, its manifest and README only, and builds before packing", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(PACK, "package.json"), "utf8")) as {
            private?: boolean;
            files?: string[];
            main?: string;
            scripts?: Record<string, string>;
        };
        assert.equal(manifest.private, undefined, "a private package cannot be published");
        assert.deepEqual(manifest.files, ["bin/**/*.js", "PulumiPolicy.yaml", "README.md"]);
        assert.equal(manifest.main, "bin/index.js");
        assert.equal(manifest.scripts?.prepack, "tsc -p .");
    });

    it("the README's catalogue lists every policy with its default enforcement level and settings", () => {
        for (const policy of policies) {
            const keys = Object.keys(policy.configSchema?.properties ?? {});
            const row = readme.split("\n").find((line) => line.startsWith(`| \`${policy.name}\` |`));
            assert.ok(row, `no catalogue row for ${policy.name}`);
            assert.ok(
                row.includes(`| ${policy.enforcementLevel} |`),
                `${policy.name}: level is not ${policy.enforcementLevel}`,
            );
            for (const key of keys) {
                assert.ok(row.includes(`\`${key}\``), `${policy.name}: setting ${key} missing from its row`);
            }
        }
        for (const [key, spec] of Object.entries(SETTINGS)) {
            const row = readme.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
            assert.ok(row, `no settings row for ${key}`);
            assert.ok(row.includes(spec.description), `${key}: description differs from the schema`);
        }
    });

    it("the complete config example names every policy, its default level and each setting at its default", () => {
        const config = exampleConfig();
        assert.deepEqual(Object.keys(config).sort(), policies.map((p) => p.name).sort());
        for (const policy of policies) {
            const expected: Record<string, unknown> = { enforcementLevel: policy.enforcementLevel };
            // A setting without a default (such as the runtime rule's asOf day) is left out.
            for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
                const fallback = (schema as { default?: unknown }).default;
                if (fallback !== undefined) {
                    expected[key] = fallback;
                }
            }
            assert.deepEqual(config[policy.name], expected, policy.name);
        }
    });
});
