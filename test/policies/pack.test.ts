import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policies/policies";
import { sdkProxy } from "../../policies/lib/sdk-proxy";
import { runStack } from "../helpers/stack";
import { changed, compliantStack, serverlessChain, swap, T, websocketBackend, websocketUrlMap } from "./fixtures";
import { resolvePolicyConfig, RunningPack } from "../../preview";
import {
    analyzeWithPack,
    isStackPolicy,
    levelOf,
    policyNamed,
    runResourcePolicy,
    runStackPolicy,
    startPack,
    TestResource,
    toRecorded,
    violationText,
} from "./harness";

const CATALOGUE: Record<string, { level: string; stack: boolean }> = {
    "enforce-backend-timeout": { level: "mandatory", stack: false },
    "enforce-session-affinity": { level: "mandatory", stack: false },
    "disallow-invalid-custom-headers": { level: "mandatory", stack: false },
    "disallow-invalid-header-actions": { level: "mandatory", stack: false },
    "enforce-serverless-backend-limits": { level: "mandatory", stack: true },
    "enforce-websocket-lifetime": { level: "mandatory", stack: true },
    "enforce-websocket-paths": { level: "mandatory", stack: false },
    "disallow-classic-advanced-routing": { level: "mandatory", stack: true },
    "enforce-https-only": { level: "mandatory", stack: true },
    "disallow-excessive-timeout": { level: "advisory", stack: false },
    "enforce-connection-draining": { level: "advisory", stack: false },
    "disallow-affinity-with-utilization": { level: "advisory", stack: false },
    "enforce-affinity-locality-policy": { level: "advisory", stack: false },
    "enforce-backend-logging": { level: "advisory", stack: false },
    "enforce-modern-tls": { level: "advisory", stack: true },
    "enforce-websocket-backend-protocol": { level: "mandatory", stack: true },
    "disallow-long-http-routes": { level: "advisory", stack: true },
    "disallow-duplicate-proxy-headers": { level: "advisory", stack: false },
    "disallow-websocket-rate-balancing": { level: "advisory", stack: true },
    "enforce-unique-named-ports": { level: "mandatory", stack: true },
    "enforce-health-check-firewall": { level: "mandatory", stack: true },
    "enforce-health-check-logging": { level: "advisory", stack: true },
    "disallow-http2-backend-protocol": { level: "advisory", stack: false },
    "enforce-websocket-scale-in": { level: "advisory", stack: true },
    "disallow-retired-function-runtime": { level: "mandatory", stack: false },
    "enforce-cloud-armor": { level: "advisory", stack: false },
    "enforce-websocket-origin-check": { level: "advisory", stack: true },
};

describe("policies: the pack", () => {
    it("has the catalogued policies, each uniquely named, at its catalogued level and kind", () => {
        assert.deepEqual(policies.map((p) => p.name).sort(), Object.keys(CATALOGUE).sort());
        for (const policy of policies) {
            assert.equal(levelOf(policy), CATALOGUE[policy.name].level, policy.name);
            assert.equal(isStackPolicy(policy), CATALOGUE[policy.name].stack, policy.name);
        }
    });

    it("lists every policy, at its level, in docs/policies.md's catalogue of the load balancer kinds each judges", () => {
        const page = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "policies.md"), "utf8");
        const start = page.indexOf("### Which kinds each rule judges");
        assert.ok(start >= 0, "docs/policies.md has no section 'Which kinds each rule judges'");
        const doc = page.slice(start, page.indexOf("\n## ", start) >= 0 ? page.indexOf("\n## ", start) : undefined);
        const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (mandatory|advisory)[^|]*\| (.+) \|$/gm)];
        assert.deepEqual(rows.map((r) => r[1]).sort(), Object.keys(CATALOGUE).sort());
        for (const [, name, level, judges] of rows) {
            assert.equal(level, CATALOGUE[name].level, name);
            assert.ok(judges.trim().length > 0, name);
        }
    });

    it("describes each policy in one full sentence, with a severity and remediation steps", () => {
        for (const policy of policies) {
            assert.match(policy.description, /^[A-Z][^]*\.$/, policy.name);
            assert.equal(
                policy.description.match(/[.!?](\s|$)/g)?.length,
                1,
                `${policy.name}: "${policy.description}" is not one sentence`,
            );
            assert.ok(policy.severity, policy.name);
            assert.ok(policy.remediationSteps, policy.name);
            assert.equal(policy.configSchema?.properties?.enforcementLevel, undefined);
        }
    });

    it("lets the two policies that can fix a resource remediate", () => {
        const remediating = policies.filter((p) => "remediateResource" in p && p.remediateResource).map((p) => p.name);
        assert.deepEqual(remediating.sort(), ["enforce-backend-timeout", "enforce-session-affinity"]);
    });

    it("keeps index.ts to constructing the PolicyPack from the policy modules", () => {
        const index = fs.readFileSync(path.join(__dirname, "..", "..", "policies", "index.ts"), "utf8");
        assert.match(index, /new PolicyPack\("websocket-lb-policies", \{ policies \}\)/);
        assert.equal(
            fs.readdirSync(path.join(__dirname, "..", "..", "policies", "rules")).length,
            policies.length,
            "one policy per file",
        );
    });

    describe("preview semantics: unknown values", () => {
        const unknown = {
            string: sdkProxy.unknownStringValue,
            number: sdkProxy.unknownNumberValue,
        };

        it("still checks a new backend whose groups and health check are not known yet, from its inputs", async () => {
            const fresh = changed(websocketBackend(), {
                timeoutSec: 30,
                healthChecks: unknown.string,
                backends: [{ group: unknown.string, balancingMode: "RATE", maxRatePerInstance: 100 }],
            });
            const outcome = await runResourcePolicy(policyNamed("enforce-backend-timeout"), fresh);
            assert.equal(outcome.cantRun, undefined);
            assert.equal(outcome.violations.length, 1);
        });

        it("recognises a new serverless backend with an unknown NEG and no health check, and does not flag it", async () => {
            const fresh = changed(serverlessChain().backend, { backends: [{ group: unknown.string }] });
            const outcome = await runResourcePolicy(policyNamed("enforce-backend-timeout"), fresh);
            assert.deepEqual(outcome.violations, []);
            assert.match(outcome.notApplicable ?? "", /serverless/);
        });

        it("reports the SDK's can't-run note, not a violation, when the value a rule needs is unknown", async () => {
            const outcome = await runResourcePolicy(
                policyNamed("enforce-backend-timeout"),
                changed(websocketBackend(), { timeoutSec: unknown.number }),
            );
            assert.deepEqual(outcome.violations, []);
            assert.equal(
                outcome.cantRun,
                "can't run policy 'enforce-backend-timeout' during preview: number value at .timeoutSec can't be known during preview",
            );
        });

        /** A new stack at preview: the URL map's service references are not known yet, and no route timeout is set. */
        function mapWithUnknownServices(ws: TestResource): TestResource {
            const map = websocketUrlMap(ws);
            const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
            const rules = (matcher.pathRules as Array<Record<string, unknown>>).map((r) => ({
                paths: r.paths,
                service: unknown.string,
            }));
            return changed(map, {
                defaultService: unknown.string,
                pathMatchers: [{ ...matcher, defaultService: unknown.string, pathRules: rules }],
            });
        }

        it("enforce-websocket-lifetime passes a new stack whose every reachable backend holds 24 h, without knowing which rule goes where", async () => {
            const ws = websocketBackend();
            const outcome = await runStackPolicy(policyNamed("enforce-websocket-lifetime") as StackValidationPolicy, [
                ws,
                mapWithUnknownServices(ws),
            ]);
            assert.deepEqual(outcome, { violations: [], urns: [], levels: [] });
        });

        it("enforce-websocket-lifetime reports a new stack whose every reachable backend is short, without knowing which rule goes where", async () => {
            const ws = changed(websocketBackend(), { timeoutSec: 30 });
            const outcome = await runStackPolicy(policyNamed("enforce-websocket-lifetime") as StackValidationPolicy, [
                ws,
                mapWithUnknownServices(ws),
            ]);
            assert.equal(outcome.cantRun, undefined);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /is a WebSocket lifetime of 30 s: .*its service is not known until the stack exists, and no backend the map uses holds a WebSocket that long/,
            );
        });

        it("disallow-long-http-routes reports a new stack's plain route without a timeout when every backend the map uses waits too long", async () => {
            const ws = websocketBackend();
            const base = mapWithUnknownServices(ws);
            const matcher = (base.props.pathMatchers as Array<Record<string, unknown>>)[0];
            const map = changed(base, { pathMatchers: [{ ...matcher, defaultRouteAction: undefined }] });
            const outcome = await runStackPolicy(policyNamed("disallow-long-http-routes") as StackValidationPolicy, [
                ws,
                map,
            ]);
            assert.equal(outcome.cantRun, undefined);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /pathMatchers\[0\]\.defaultService is a route serving no WebSocket path that waits up to 86400 s: .*, as for every backend the map uses/,
            );
        });

        it("enforce-websocket-lifetime says it can't run when one reachable backend is short, another is not, and the routing is unknown", async () => {
            const ws = websocketBackend();
            const auth = serverlessChain();
            const map = changed(mapWithUnknownServices(ws), {}, { pathMatchers: [ws, auth.backend] });
            const outcome = await runStackPolicy(policyNamed("enforce-websocket-lifetime") as StackValidationPolicy, [
                ws,
                auth.run,
                auth.neg,
                auth.backend,
                map,
            ]);
            assert.deepEqual(outcome.violations, []);
            assert.match(
                outcome.cantRun ?? "",
                /can't run policy 'enforce-websocket-lifetime' during preview: string value at \.pathMatchers\.0\.pathRules\.0\.service can't be known during preview/,
            );
        });
    });

    describe("the whole pack, through its analyzer protocol", function () {
        // One real pack process for these tests, started as the offline preview starts it.
        this.timeout(180_000);
        let pack: RunningPack;
        before(async () => {
            pack = await startPack();
        });
        after(() => pack?.stop());

        for (const stack of ["staging", "production"]) {
            it(`finds nothing wrong with the ${stack} stack the program builds`, async () => {
                const run = await runStack(stack);
                const { diagnostics, notApplicable } = await analyzeWithPack(pack, run.resources);
                // Any can't-run note arrives as an advisory diagnostic, so it counts here too. RATE on
                // the WebSocket backend is a trade-off the program accepts while IN_FLIGHT is Beta;
                // its regional group redistributes and its autoscaler scales in unbounded, which the
                // scale-in advisory names on the group and on the autoscaler.
                assert.deepEqual(
                    diagnostics.map((d) => `${d.level} ${d.policy} ${d.urn.split("::").pop()}`),
                    ["advisory disallow-websocket-rate-balancing chat-api-backend"],
                );
                // The rules did run: every policy applied to something in the stack.
                const skipped = (policy: string, urn: string) =>
                    notApplicable.some((n) => n.policy === policy && n.urn === urn);
                const applied = policies
                    .filter((p) =>
                        isStackPolicy(p) ? !skipped(p.name, "") : run.resources.some((r) => !skipped(p.name, r.urn)),
                    )
                    .map((p) => p.name);
                assert.deepEqual(applied.sort(), Object.keys(CATALOGUE).sort());
            });
        }

        it("judges the program's real routes: a 30 s route timeout on staging is a lifetime violation", async () => {
            const run = await runStack("staging", ["websocketTimeoutSec=30"]);
            const { diagnostics } = await analyzeWithPack(pack, run.resources);
            const lifetime = diagnostics.filter((d) => d.policy === "enforce-websocket-lifetime");
            assert.equal(lifetime.length, 1);
            assert.match(
                violationText(lifetime[0]),
                /^URLMap "chat-https": pathMatchers\[0\]\.pathRules\[0\] \(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: routeAction.timeout is 30 s/,
            );
        });

        it("fails a hand-built HTTP(S) backend with CLIENT_IP_PROTO with the mandatory enforce-session-affinity", async () => {
            // Config validation refuses this affinity, so only a hand-built resource can carry it.
            const handBuilt = changed(websocketBackend(), {
                sessionAffinity: "CLIENT_IP_PROTO",
                affinityCookieTtlSec: undefined,
            });
            const { diagnostics } = await analyzeWithPack(pack, toRecorded([handBuilt]));
            const affinity = diagnostics.filter((d) => d.policy === "enforce-session-affinity");
            assert.deepEqual(
                affinity.map((d) => d.level),
                ["mandatory"],
            );
            assert.match(
                violationText(affinity[0]),
                /sessionAffinity is "CLIENT_IP_PROTO" on an HTTP\(S\) backend service/,
            );
        });

        it("rejects each of the staging incident's broken settings with the expected policy", async () => {
            const s = compliantStack();
            // The incident's system: backend timeout 30 s, affinity NONE, Connection/Upgrade custom headers, a
            // route timeout on a classic EXTERNAL map, and timeoutSec on a serverless backend.
            const ws = changed(s.ws, {
                loadBalancingScheme: "EXTERNAL",
                timeoutSec: 30,
                sessionAffinity: "NONE",
                affinityCookieTtlSec: undefined,
                customRequestHeaders: ["Connection: upgrade", "Upgrade: websocket"],
            });
            const map = changed(s.map, {
                pathMatchers: (s.map.props.pathMatchers as Array<Record<string, unknown>>).map((m) => ({
                    ...m,
                    headerAction: undefined,
                })),
            });
            const serverless = changed(s.auth.backend, { loadBalancingScheme: "EXTERNAL", timeoutSec: 30 });
            const rules = [s.httpsRule, s.httpRule].map((r) => changed(r, { loadBalancingScheme: "EXTERNAL" }));
            let all = swap(swap(swap(s.all, s.ws, ws), s.map, map), s.auth.backend, serverless);
            all = swap(swap(all, s.httpsRule, rules[0]), s.httpRule, rules[1]);

            const { diagnostics } = await analyzeWithPack(pack, toRecorded(all));
            const byPolicy: Record<string, string[]> = {};
            for (const d of diagnostics.filter((d) => d.level === "mandatory")) {
                (byPolicy[d.policy] ??= []).push(violationText(d));
            }
            assert.deepEqual(Object.keys(byPolicy).sort(), [
                "disallow-classic-advanced-routing",
                "disallow-invalid-custom-headers",
                "enforce-backend-timeout",
                "enforce-serverless-backend-limits",
                "enforce-session-affinity",
                "enforce-websocket-lifetime",
            ]);
            assert.match(byPolicy["enforce-backend-timeout"][0], /BackendService "chat-api-backend": timeoutSec is 30/);
            assert.match(byPolicy["enforce-session-affinity"][0], /sessionAffinity is "NONE"/);
            assert.deepEqual(
                byPolicy["disallow-invalid-custom-headers"].map((v) => /is "([^"]+)"/.exec(v)?.[1]),
                ["Connection: upgrade", "Upgrade: websocket"],
            );
            assert.ok(
                byPolicy["disallow-classic-advanced-routing"].some((v) =>
                    /pathRules\[0\]\.routeAction\.timeout is set on a URL map of the classic EXTERNAL scheme/.test(v),
                ),
            );
            assert.match(
                byPolicy["enforce-serverless-backend-limits"][0],
                /BackendService "chat-auth-backend": timeoutSec is 30/,
            );
            assert.match(
                byPolicy["enforce-websocket-lifetime"][0],
                /\(serving \/ws, \/ws\/\*, \/websocket, \/websocket\/\*\) is a WebSocket lifetime of 30 s: no routeAction.timeout in effect, so backend BackendService "chat-api-backend" timeoutSec applies \(30 s\)/,
            );
            assert.equal(ws.type, T.backendService);
        });

        it("gives the same answers with AnalyzeStack on a second process of the pack, as the preview does for a large stack", async () => {
            const run = await runStack("staging", ["websocketTimeoutSec=30"]);
            const alone = await analyzeWithPack(pack, run.resources);
            const second = await startPack();
            try {
                await second.configure(resolvePolicyConfig(await second.info()), {
                    project: "websocket-lb",
                    stack: "test",
                });
                const split = await pack.analyzeWithApplicability(run.resources, {
                    stackPack: Promise.resolve(second),
                });
                assert.deepEqual(split, alone);
                assert.ok(
                    split.diagnostics.some((d) => d.policy === "enforce-websocket-lifetime"),
                    "a stack policy's verdict is among them",
                );
            } finally {
                second.stop();
            }
        });
    });
});
