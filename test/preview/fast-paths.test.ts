import { strict as assert } from "assert";
import * as path from "path";
import { FAST_PATHS, NO_FAST_PATH_ENV } from "../../preview/fast-paths";
import { CliResult, runPreview } from "../helpers/cli";

// The preview's fast paths into other libraries' internals (preview/fast-paths.ts) buy time only:
// with every one of them off, on the libraries' public paths, the offline preview must report the
// same resources and the same verdicts.

const INCIDENT = path.join(__dirname, "fixtures", "Pulumi.incident-broken.yaml");
/** Preloaded into the preview and its pack: the internals the fast paths rely on, changed in shape only. */
const CHANGED_INTERNALS = path.join(__dirname, "fixtures", "changed-internals.js");

interface Judged {
    resources: string[];
    diagnostics: string[];
    outputs: string;
    summary: string;
}

/** The preview's --json answer in a form that does not depend on the order registrations arrived in. */
function judged(result: CliResult): Judged {
    assert.ok(result.code === 0 || result.code === 1, `preview exited ${result.code}: ${result.stderr}`);
    const json = JSON.parse(result.stdout) as {
        resources: unknown[];
        diagnostics: unknown[];
        outputs: unknown;
        summary: unknown;
    };
    return {
        resources: json.resources.map((r) => JSON.stringify(r)).sort(),
        diagnostics: json.diagnostics.map((d) => JSON.stringify(d)).sort(),
        outputs: JSON.stringify(json.outputs),
        summary: JSON.stringify(json.summary),
    };
}

describe("preview: every fast path off gives the same resources and verdicts", function () {
    this.timeout(300_000);
    /** The staging preview with its fast paths on, run once for the two tests that compare against it. */
    let stagingOn: Promise<CliResult> | undefined;
    const stagingWithFastPaths = () => (stagingOn ??= runPreview(["--stack", "staging", "--json"]));

    for (const [stack, args] of [
        ["staging", ["--stack", "staging"]],
        ["the incident's broken settings", ["--stack", "incident", "--stack-file", INCIDENT]],
    ] as const) {
        it(`${stack}: ${FAST_PATHS.join(", ")} off`, async () => {
            const [on, off] = await Promise.all([
                stack === "staging" ? stagingWithFastPaths() : runPreview([...args, "--json"]),
                runPreview([...args, "--json"], { env: { [NO_FAST_PATH_ENV]: "all" } }),
            ]);
            const fast = judged(on);
            assert.ok(fast.resources.length > 0 && fast.diagnostics.length > 0, "the preview judged something");
            assert.deepEqual(judged(off), fast);
        });
    }

    it("when the libraries' internals differ in shape, each fast path that relies on them says so once and the verdicts stay", async () => {
        const args = ["--stack", "staging", "--json"];
        const [on, changed] = await Promise.all([
            stagingWithFastPaths(),
            runPreview(args, { env: { NODE_OPTIONS: `--require ${CHANGED_INTERNALS}` } }),
        ]);
        assert.deepEqual(judged(changed), judged(on));
        const noticesOf = (result: CliResult) =>
            (JSON.parse(result.stdout) as { notices: string[] }).notices.filter((n) => n.startsWith("fast path "));
        assert.deepEqual(noticesOf(on), []);
        const notices = noticesOf(changed);
        assert.deepEqual(
            notices.map((n) => /^fast path (\S+) is off: /.exec(n)?.[1]).sort(),
            ["deserialize-once", "wire"],
            notices.join("\n"),
        );
        assert.match(
            notices.find((n) => n.includes("wire"))!,
            /google-protobuf's generated code builds the requests$/,
        );
        assert.match(
            notices.find((n) => n.includes("deserialize-once"))!,
            /deserializeProperties\(struct, proxySecrets\); each policy converts the properties itself$/,
        );
    });
});
