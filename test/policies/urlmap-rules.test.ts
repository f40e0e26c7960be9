import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { changed, compliantStack, newStack, T, UNKNOWN_STRING, websocketBackend, websocketUrlMap } from "./fixtures";
import { policyNamed, runResourcePolicy, TestResource } from "./harness";

const rule = policyNamed("enforce-websocket-paths") as ResourceValidationPolicy;
type Rule = { paths: string[]; service: string; routeAction?: unknown };

function withRules(rules: Rule[]): TestResource {
    const map = websocketUrlMap(websocketBackend());
    const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
    return changed(map, { pathMatchers: [{ ...matcher, pathRules: rules }] });
}

async function violations(map: TestResource, config = {}): Promise<string[]> {
    const outcome = await runResourcePolicy(rule, map, config);
    assert.equal(outcome.notApplicable, undefined);
    assert.equal(outcome.cantRun, undefined, outcome.cantRun);
    return outcome.violations;
}

describe("policies: enforce-websocket-paths", () => {
    it("passes the compliant map, skips the redirect-only map and other types", async () => {
        const s = compliantStack();
        assert.deepEqual(await violations(s.map), []);
        assert.match((await runResourcePolicy(rule, s.redirectMap)).notApplicable ?? "", /only redirects/);
        assert.match(
            (await runResourcePolicy(rule, websocketBackend())).notApplicable ?? "",
            /applies only to URLMap, RegionUrlMap/,
        );
    });
    it("rejects /ws/* routed without /ws, saying why", async () => {
        const found = await violations(withRules([{ paths: ["/ws/*", "/websocket", "/websocket/*"], service: "svc" }]));
        assert.equal(found.length, 2);
        assert.match(
            found[0],
            /URLMap "chat-https": pathMatchers\[0\] \("websocket-routes"\) is missing WebSocket path \/ws; required: a rule routing \/ws\. Fix: add "\/ws" to the path rule of the WebSocket backend, because \/ws\/\* does not match \/ws itself\./,
        );
        assert.match(found[1], /pathRules\[0\]\.paths is "\/ws\/\*" without "\/ws"/);
    });
    it("rejects /x and /x/* sent to different services", async () => {
        const found = await violations(
            withRules([
                { paths: ["/ws/*", "/websocket", "/websocket/*"], service: "projects/p/global/backendServices/a" },
                { paths: ["/ws"], service: "projects/p/global/backendServices/b" },
            ]),
        );
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /\/ws routed to projects\/p\/global\/backendServices\/b while \/ws\/\* goes to projects\/p\/global\/backendServices\/a/,
        );
    });
    it("rejects * anywhere but after a final /", async () => {
        const found = await violations(
            withRules([{ paths: ["/ws", "/ws/*", "/websocket", "/websocket/*", "/chat*"], service: "svc" }]),
        );
        assert.match(
            found[0],
            /pathRules\[0\]\.paths is "\/chat\*"; .*the API rejects a path that has \* somewhere other than right after a final \//,
        );
    });
    it("rejects a map with no path matchers, and honours websocketPaths", async () => {
        const bare: TestResource = { type: T.urlMap, name: "bare", props: { defaultService: "svc" } };
        assert.match((await violations(bare))[0], /pathMatchers is unset: every path goes to the default service/);
        assert.deepEqual(await violations(bare, { websocketPaths: [] }), []);
        assert.deepEqual(
            await violations(withRules([{ paths: ["/socket", "/socket/*"], service: "s" }]), {
                websocketPaths: ["/socket", "/socket/*"],
            }),
            [],
        );
    });
    it("accepts route rules that match the paths", async () => {
        const map = websocketUrlMap(websocketBackend());
        const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
        const routed = changed(map, {
            pathMatchers: [
                {
                    name: matcher.name,
                    defaultService: "s",
                    routeRules: [
                        { priority: 1, service: "s", matchRules: [{ prefixMatch: "/ws" }] },
                        { priority: 2, service: "s", matchRules: [{ prefixMatch: "/websocket" }] },
                    ],
                },
            ],
        });
        assert.deepEqual(await violations(routed), []);
    });
    /** The map with one path matcher holding only these route rules' match rules. */
    function routedBy(matchRules: Array<Record<string, unknown>>): TestResource {
        const map = websocketUrlMap(websocketBackend());
        const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
        return changed(map, {
            pathMatchers: [
                { name: matcher.name, defaultService: "s", routeRules: [{ priority: 1, service: "s", matchRules }] },
            ],
        });
    }
    const missing = (found: string[]) => found.map((v) => /missing WebSocket path (\S+);/.exec(v)?.[1]);

    it("accepts a route rule whose match rules cover the paths between them: full paths and prefixes", async () => {
        const mixed = [
            { fullPathMatch: "/ws" },
            { fullPathMatch: "/websocket" },
            { prefixMatch: "/ws/" },
            { prefixMatch: "/websocket/" },
        ];
        assert.deepEqual(await violations(routedBy(mixed)), []);
        // A prefix covers a path that starts with it, and /x/* when it covers /x/.
        assert.deepEqual(await violations(routedBy([{ prefixMatch: "/w" }])), []);
    });
    it("counts as missing a path no match rule covers: another prefix, a literal /x/*, a prefix that is not a string", async () => {
        assert.deepEqual(missing(await violations(routedBy([{ prefixMatch: "/other" }]))), [
            "/ws",
            "/ws/*",
            "/websocket",
            "/websocket/*",
        ]);
        const literal = [{ fullPathMatch: "/ws/*" }, { fullPathMatch: "/websocket/*" }, { prefixMatch: ["/w"] }];
        assert.deepEqual(missing(await violations(routedBy(literal))), ["/ws", "/ws/*", "/websocket", "/websocket/*"]);
    });
    it("accepts /x and /x/* in different path rules when both go to the same service", async () => {
        const found = await violations(
            withRules([
                { paths: ["/ws/*", "/websocket", "/websocket/*"], service: "projects/p/global/backendServices/a" },
                { paths: ["/ws"], service: "projects/p/global/backendServices/a" },
            ]),
        );
        assert.deepEqual(found, []);
    });
    it("ignores a path rule with no paths", async () => {
        const map = websocketUrlMap(websocketBackend());
        const matcher = (map.props.pathMatchers as Array<Record<string, unknown>>)[0];
        const rules = [...(matcher.pathRules as Rule[]), { service: "s" }];
        assert.deepEqual(await violations(changed(map, { pathMatchers: [{ ...matcher, pathRules: rules }] })), []);
    });

    describe("a brand-new stack, where service references are unknown at preview", () => {
        it("judges /x and /x/* in one path rule without reading its service", async () => {
            const map = newStack().find((r) => r.type === T.urlMap && r.name === "chat-https")!;
            assert.deepEqual(await violations(map), []);
        });
        it("says it can't run when /x and /x/* sit in different rules and either service is unknown", async () => {
            const known = "projects/p/global/backendServices/a";
            for (const [wildcard, base] of [
                [UNKNOWN_STRING, known],
                [known, UNKNOWN_STRING],
                [UNKNOWN_STRING, UNKNOWN_STRING],
            ]) {
                const map = withRules([
                    { paths: ["/ws/*", "/websocket", "/websocket/*"], service: wildcard },
                    { paths: ["/ws"], service: base },
                ]);
                const outcome = await runResourcePolicy(rule, map);
                assert.match(outcome.cantRun ?? "", /can't run policy 'enforce-websocket-paths' during preview/);
                assert.deepEqual(outcome.violations, []);
            }
        });
    });
});
