import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { FUNCTION_RUNTIME, runtimeStage } from "../../policies/facts";
import { RunningPack } from "../../preview";
import { analyzeWithPack, policyNamed, runResourcePolicy, startPack, TestResource, toRecorded } from "./harness";

const rule = policyNamed("disallow-retired-function-runtime") as ResourceValidationPolicy;
const FUNCTION = "gcp:cloudfunctionsv2/function:Function";
const RUN = "gcp:cloudrunv2/service:Service";

/** A function as the program declares it: compliant on the day it is judged. */
function fn(runtime: string): TestResource {
    return {
        type: FUNCTION,
        name: "chat-synthetic",
        props: {
            location: "us-central1",
            buildConfig: { runtime, entryPoint: "chatSynthetic" },
            serviceConfig: { maxInstanceCount: 1 },
        },
    };
}

function runFunction(image: string, field: "baseImageUri" | "buildConfig"): TestResource {
    return {
        type: RUN,
        name: "hello",
        props:
            field === "baseImageUri"
                ? { location: "us-central1", template: { containers: [{ image: "scratch", baseImageUri: image }] } }
                : { location: "us-central1", buildConfig: { baseImage: image }, template: { containers: [] } },
    };
}

const image = (id: string) => `us-central1-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/${id}`;

describe("policies: disallow-retired-function-runtime", () => {
    it("passes the runtime the program uses, on a day inside its support window", async () => {
        const outcome = await runResourcePolicy(rule, fn(FUNCTION_RUNTIME), { asOf: "2026-12-06" });
        assert.deepEqual(outcome.violations, []);
        assert.equal(outcome.notApplicable, undefined);
    });

    it("refuses a runtime past its decommission date, mandatory, naming the property, the date and the fix", async () => {
        const outcome = await runResourcePolicy(rule, fn("nodejs20"), { asOf: "2026-10-30" });
        assert.deepEqual(outcome.levels, ["mandatory"]);
        assert.equal(
            outcome.violations[0],
            `Function "chat-synthetic": buildConfig.runtime is "nodejs20", decommissioned since 2026-10-30; required: a runtime the support schedule lists as supported on 2026-10-30. Fix: set buildConfig.runtime to ${FUNCTION_RUNTIME}, because Google refuses to create or redeploy a function on a decommissioned runtime (cloud.google.com/run/docs/runtimes/function-runtimes).`,
        );
    });

    it("judges by the day: deprecated is advisory, the day before deprecation passes", async () => {
        assert.deepEqual((await runResourcePolicy(rule, fn("nodejs20"), { asOf: "2026-10-29" })).levels, ["advisory"]);
        assert.match(
            (await runResourcePolicy(rule, fn("nodejs20"), { asOf: "2026-10-29" })).violations[0],
            /"nodejs20", deprecated since 2026-04-30; .* from 2026-10-30 Google refuses/,
        );
        assert.deepEqual((await runResourcePolicy(rule, fn("nodejs20"), { asOf: "2026-04-29" })).violations, []);
        assert.equal(runtimeStage("nodejs22", "2027-04-30"), "deprecated");
        assert.equal(runtimeStage("nodejs22", "2027-10-31"), "decommissioned");
    });

    it("calls a runtime the table does not know advisory, unknown runtime", async () => {
        const outcome = await runResourcePolicy(rule, fn("python312"), { asOf: "2026-12-06" });
        assert.deepEqual(outcome.levels, ["advisory"]);
        assert.match(outcome.violations[0], /"python312", an unknown runtime; .*knows the dates of nodejs26, nodejs24/);
    });

    it("reads a Cloud Run function's base image, in the container or the build config; a plain container is not its business", async () => {
        for (const field of ["baseImageUri", "buildConfig"] as const) {
            const outcome = await runResourcePolicy(rule, runFunction(image("nodejs18"), field), {
                asOf: "2026-12-06",
            });
            assert.deepEqual(outcome.levels, ["mandatory"], field);
            assert.match(
                outcome.violations[0],
                field === "baseImageUri"
                    ? /template\.containers\[0\]\.baseImageUri is ".*runtimes\/nodejs18", decommissioned since 2025-10-30/
                    : /buildConfig\.baseImage is ".*runtimes\/nodejs18", decommissioned/,
            );
            const fine = await runResourcePolicy(rule, runFunction(image("nodejs24"), field), { asOf: "2026-12-06" });
            assert.deepEqual(fine.violations, [], field);
        }
        const plain = await runResourcePolicy(rule, {
            type: RUN,
            name: "api",
            props: { template: { containers: [{ image: "us-docker.pkg.dev/p/r/api:1" }] } },
        });
        assert.match(plain.notApplicable ?? "", /no function runtime/);
    });

    describe("through the real pack (analyzer protocol), judged on the day it runs", () => {
        let pack: RunningPack | undefined;
        before(async function () {
            this.timeout(120_000);
            pack = await startPack();
        });
        after(() => pack?.stop());

        it("reports a decommissioned runtime mandatory and an unknown one advisory, each at its own level", async () => {
            const unknown = { ...fn("nodejs99"), name: "other" };
            const { diagnostics } = await analyzeWithPack(pack!, toRecorded([fn("nodejs18"), unknown]));
            const mine = diagnostics.filter((d) => d.policy === "disallow-retired-function-runtime");
            assert.deepEqual(mine.map((d) => [d.level, /"(nodejs\d+)"/.exec(d.message)?.[1]]).sort(), [
                ["advisory", "nodejs99"],
                ["mandatory", "nodejs18"],
            ]);
        });
    });
});
