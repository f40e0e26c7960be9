import { strict as assert } from "assert";
import { CHAT_YAML, chatServers, check, relaxedEvents, validate } from "./scenario-harness";

// The shipped example suite as it ships, its 40 s hold included: a file of its own, so a mocha
// worker starts it at once and the rest of the suite runs beside its wait.
describe("validator --scenario: the shipped example suite against the local chat server", function () {
    this.timeout(60_000);
    const chat = chatServers();

    it("passes the shipped example suite (validator/scenarios/chat.yaml) against the chat server, 40 s hold included", async function () {
        this.timeout(150_000);
        const server = await chat();
        // The suite as shipped, but with 2 s for each agent event: this test is about the steps passing.
        const relaxed = relaxedEvents(CHAT_YAML);
        const run = await validate(["--url", server.url, "--scenario", relaxed, "--json"]);
        assert.equal(run.code, 0, run.out + run.err);
        const checks = run.report!.scenario!.checks;
        assert.deepEqual(
            checks.map((c) => [c.name, c.passed, c.failed]),
            [
                ["connect /ws", 1, 0],
                ["connect /ws/test", 1, 0],
                ["connect /websocket", 1, 0],
                ["echo", 1, 0],
                ["upgrade without a token is refused", 1, 0],
                ["upgrade from a foreign Origin is refused", 1, 0],
                ["agent events in order within 100 ms", 1, 0],
                ["hold 40 s past the old 30 s cut", 1, 0],
                ["ping pong", 1, 0],
            ],
        );
        assert.ok(check(run, "hold 40 s past the old 30 s cut").durationMs.max! >= 40_000);
        assert.equal(run.report!.metrics.check_success_rate, 1);
        assert.deepEqual(run.report!.endpoints, [], "the default probes do not run with --scenario");
        assert.ok(
            run.report!.thresholds.some((t) => t.threshold.source === "check_success_rate>=1" && t.passed === true),
        );
    });
});
