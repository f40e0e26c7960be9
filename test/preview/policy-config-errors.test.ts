import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../../cli/kit";
import { loadPolicyConfigFile } from "../../preview";
import { runPreview } from "../helpers/cli";

// `--policy-pack-config` mistakes are found before the program runs: a program that would fail
// (backendTimeoutSec=0) must not hide them, nor make a person wait for it first.
describe("preview: --policy-pack-config mistakes are found before the program runs", function () {
    this.timeout(150_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, config: unknown) => {
        const at = path.join(dir, name);
        fs.writeFileSync(at, JSON.stringify(config));
        return at;
    };

    it("a bad level is refused as the file is read, before any pack starts", () => {
        for (const [config, message] of [
            [
                { "enforce-backend-timeout": "fatal" },
                /enforce-backend-timeout is "fatal"; allowed: advisory, mandatory, remediate, disabled/,
            ],
            [{ all: { enforcementLevel: "loud" } }, /all\.enforcementLevel is "loud"; allowed: advisory/],
            [
                { "enforce-backend-timeout": 3 },
                /enforce-backend-timeout is 3; allowed: a level \(advisory, mandatory, remediate, disabled\) or an object/,
            ],
        ] as const) {
            const at = file("levels.json", config);
            assert.throws(
                () => loadPolicyConfigFile(at),
                (e: Error) => e instanceof UsageError && message.test(e.message),
            );
        }
    });

    it("an unknown policy (with the closest name) and a bad setting: exit 2 with that line, not the program's error", async () => {
        const typo = file("typo.json", { "enforce-backend-timout": "mandatory" });
        const setting = file("setting.json", { "enforce-backend-timeout": { minTimeoutSec: "long" } });
        const [a, b] = await Promise.all(
            [typo, setting].map((f) =>
                runPreview(["--stack", "staging", "-c", "backendTimeoutSec=0", "--policy-pack-config", f]),
            ),
        );
        assert.equal(a.code, 2, a.stderr);
        assert.match(
            a.stderr,
            /^error: .*typo\.json: enforce-backend-timout is not a policy of .*; did you mean enforce-backend-timeout\?; policies: /,
        );
        assert.equal(b.code, 2, b.stderr);
        assert.match(
            b.stderr,
            /^error: .*setting\.json: enforce-backend-timeout\.minTimeoutSec is "long"; allowed: an integer/,
        );
        for (const r of [a, b]) {
            assert.doesNotMatch(r.stderr, /program failed|backendTimeoutSec/, "the program never ran");
        }
    });
});
