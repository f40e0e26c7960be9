import { strict as assert } from "assert";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { armored, armorPolicy, changed, compliantStack, swap, T, UNKNOWN_STRING, websocketBackend } from "./fixtures";
import { policyNamed, runResourcePolicy, runStackPolicy, TestResource, urnOf } from "./harness";

type Rule = Record<string, unknown>;

const armorRule = policyNamed("enforce-cloud-armor") as ResourceValidationPolicy;
const originRule = policyNamed("enforce-websocket-origin-check") as StackValidationPolicy;

/** The compliant stack with the policy's rules edited. */
function withRules(edit: (rules: Rule[]) => Rule[]) {
    const s = compliantStack();
    const armor = changed(s.armor, { rules: edit(structuredClone(s.armor.props.rules as Rule[])) });
    return { s, armor, all: swap(s.all, s.armor, armor) };
}

async function originViolations(resources: TestResource[]) {
    const outcome = await runStackPolicy(originRule, resources);
    assert.equal(outcome.notApplicable, undefined, `not applicable: ${outcome.notApplicable}`);
    assert.equal(outcome.cantRun, undefined, outcome.cantRun);
    return outcome;
}

describe("policies: Cloud Armor rules", () => {
    describe("enforce-cloud-armor", () => {
        it("passes a backend service under a security policy, serverless or not", async () => {
            const s = compliantStack();
            for (const backend of [s.ws, s.auth.backend]) {
                assert.deepEqual((await runResourcePolicy(armorRule, backend)).violations, []);
            }
        });
        it("flags an EXTERNAL_MANAGED backend service with no securityPolicy, naming the property", async () => {
            const outcome = await runResourcePolicy(armorRule, websocketBackend());
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /^BackendService "chat-api-backend": securityPolicy is unset \(no Cloud Armor policy: every request reaches the backends\); required: a Cloud Armor security policy of type CLOUD_ARMOR\. Fix: attach/,
            );
        });
        it("does not apply to the classic scheme or to other resource types", async () => {
            const classic = changed(websocketBackend(), { loadBalancingScheme: "EXTERNAL" });
            assert.match((await runResourcePolicy(armorRule, classic)).notApplicable ?? "", /EXTERNAL_MANAGED/);
            const other: TestResource = { type: T.sslPolicy, name: "tls", props: {} };
            assert.match(
                (await runResourcePolicy(armorRule, other)).notApplicable ?? "",
                /applies only to BackendService/,
            );
        });
        it("is advisory unless the pack's config makes it mandatory", () => {
            assert.equal(armorRule.enforcementLevel, "advisory");
        });
    });

    describe("enforce-websocket-origin-check", () => {
        it("passes the compliant stack: an exact Origin allowlist, no rule in preview", async () => {
            assert.deepEqual((await originViolations(compliantStack().all)).violations, []);
        });
        it("does not apply to a stack without a URL map", async () => {
            const outcome = await runStackPolicy(originRule, [armorPolicy()]);
            assert.deepEqual(outcome.violations, []);
            assert.ok(outcome.notApplicable);
        });
        it("flags a WebSocket backend's policy with no rule on the Origin header", async () => {
            const { armor, all } = withRules((rules) => rules.filter((r) => r.priority !== 1000));
            const outcome = await originViolations(all);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /^SecurityPolicy "chat-armor": rules is 3 rules, none reading request\.headers\['origin'\], on the policy of BackendService "chat-api-backend", which serves WebSocket paths; required: a deny rule/,
            );
            assert.deepEqual(outcome.urns, [urnOf(armor)]);
        });
        it("flags an Origin allowlist that holds a wildcard", async () => {
            const { all } = withRules((rules) => {
                rules[0].match = { expr: { expression: "!request.headers['origin'].matches('^https://.*$')" } };
                return rules;
            });
            const outcome = await originViolations(all);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /rules\[0\]\.match\.expr\.expression is an Origin allowlist with a wildcard \("\^https:\/\/\.\*\$"\)/,
            );
        });
        it("does not mistake the WebSocket path pattern's .* for a wildcard origin", async () => {
            // The compliant rule's path regex holds `/ws/.*`; only what Origin is compared with counts.
            const rules = armorPolicy().props.rules as Rule[];
            assert.match(JSON.stringify(rules[0]), /\/ws\/\.\*/);
            assert.deepEqual((await originViolations(compliantStack().all)).violations, []);
        });
        it("flags every rule left in preview mode: it enforces nothing", async () => {
            const { all } = withRules((rules) => rules.map((r, i) => (i < 2 ? { ...r, preview: true } : r)));
            const outcome = await originViolations(all);
            assert.equal(outcome.violations.length, 2);
            assert.match(outcome.violations[0], /rules\[0\]\.preview is true on "deny\(403\)" \(priority 1000\)/);
            assert.match(
                outcome.violations[1],
                /rules\[1\]\.preview is true on "throttle" \(priority 2000\).*enforces nothing/,
            );
        });
        it("leaves a WebSocket backend with no policy to enforce-cloud-armor", async () => {
            const s = compliantStack();
            const bare = changed(s.ws, { securityPolicy: undefined }, {});
            assert.deepEqual((await originViolations(swap(s.all, s.ws, bare))).violations, []);
        });
        it("judges only the policy of the backend that serves WebSocket paths", async () => {
            // A policy without an Origin rule on the Cloud Run backend alone is not a WebSocket problem.
            const s = compliantStack();
            const plain: TestResource = {
                ...armorPolicy(),
                name: "plain-armor",
                props: { ...armorPolicy().props, name: "plain-armor-1", rules: [] },
            };
            const auth = armored(changed(s.auth.backend, {}, { backends: s.auth.backend.links!.backends }), plain);
            const all = [...swap(s.all, s.auth.backend, auth), plain];
            assert.deepEqual((await originViolations(all)).violations, []);
        });
        it("reads an Origin comparison written with spaces between its tokens", async () => {
            const { all } = withRules((rules) => {
                rules[0].match = { expr: { expression: "!request.headers['origin'] . matches ( '^https://.*$' )" } };
                return rules;
            });
            const outcome = await originViolations(all);
            assert.equal(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /an Origin allowlist with a wildcard \("\^https:\/\/\.\*\$"\)/);
        });
        it("flags a wildcard beside an exact origin in the same rule", async () => {
            const { all } = withRules((rules) => {
                rules[0].match = {
                    expr: {
                        expression:
                            "request.headers['origin'] == 'https://chat.example.com' || request.headers['origin'].matches('^https://.*$')",
                    },
                };
                return rules;
            });
            const outcome = await originViolations(all);
            assert.equal(outcome.violations.length, 1);
            assert.match(
                outcome.violations[0],
                /with a wildcard \("https:\/\/chat\.example\.com", "\^https:\/\/\.\*\$"\)/,
            );
        });
        it("reads a rule with no match block as one that reads no Origin", async () => {
            const { all } = withRules((rules) => [{ priority: 10, action: "allow" }, ...rules]);
            assert.deepEqual((await originViolations(all)).violations, []);
        });
        it("judges a policy once when several WebSocket routes reach its backend", async () => {
            const { s, all } = withRules((rules) => rules.map((r) => ({ ...r, preview: r.priority === 2000 })));
            const map = structuredClone(s.map);
            const matcher = (map.props.pathMatchers as Rule[])[0];
            const [wsRule, ...others] = matcher.pathRules as Rule[];
            matcher.pathRules = [
                { ...wsRule, paths: ["/ws", "/ws/*"] },
                { ...wsRule, paths: ["/websocket", "/websocket/*"] },
                ...others,
            ];
            const outcome = await originViolations(swap(all, s.map, map));
            assert.equal(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /rules\[1\]\.preview is true on "throttle"/);
        });
        it("follows the recorded dependency when a brand-new stack's policy reference is unknown", async () => {
            const { s, armor, all } = withRules((rules) => rules.filter((r) => r.priority !== 1000));
            const ws = changed(s.ws, { securityPolicy: UNKNOWN_STRING });
            const outcome = await originViolations(swap(all, s.ws, ws));
            assert.equal(outcome.violations.length, 1);
            assert.deepEqual(outcome.urns, [urnOf(armor)]);
        });
        it("takes only a security policy among the resources the reference was built from", async () => {
            const s = compliantStack();
            const ws = changed(s.ws, {}, { ...s.ws.links, securityPolicy: [s.sslPolicy, s.armor] });
            assert.deepEqual((await originViolations(swap(s.all, s.ws, ws))).violations, []);
        });
        it("finds the policy by the reference's name among the stack's security policies only", async () => {
            const s = compliantStack();
            const ws = changed(s.ws, {}, {});
            // Found first but wrong: a policy of another name, and an SSL policy of the same name.
            const other: TestResource = {
                ...armorPolicy(),
                name: "other-armor",
                props: { ...armorPolicy().props, name: "other-armor-1", rules: [] },
            };
            const sameName: TestResource = { type: T.sslPolicy, name: "chat-armor-3c4d5e6", props: {} };
            const all = [other, sameName, ...swap(s.all, s.ws, ws)];
            assert.deepEqual((await originViolations(all)).violations, []);
        });
        it("finds the policy by its logical name when the reference is that name", async () => {
            const { s, armor, all } = withRules(() => []);
            const ws = changed(s.ws, { securityPolicy: "chat-armor" }, {});
            const outcome = await originViolations(swap(all, s.ws, ws));
            assert.equal(outcome.violations.length, 1);
            assert.deepEqual(outcome.urns, [urnOf(armor)]);
        });
        it("finds the policy by its self link when the dependency was not recorded", async () => {
            const s = compliantStack();
            const ws = changed(s.ws, {}, {});
            const armor = changed(s.armor, { rules: [] });
            const all = swap(swap(s.all, s.ws, ws), s.armor, armor);
            assert.equal((await originViolations(all)).violations.length, 1);
        });
    });
});
