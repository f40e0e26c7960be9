import { strict as assert } from "assert";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { pathMatches, pathPatternProblem, wildcardBase } from "../../policies/lib/gcp-facts";
import { allRoutes, isRedirectOnly, probePath, routesFor } from "../../policies/lib/urlmaps";
import { changed, websocketBackend, websocketUrlMap } from "./fixtures";
import { policyNamed, runResourcePolicy } from "./harness";

type Props = Record<string, unknown>;

/** A map with one path matcher, its default service "default" and the given rules. */
function mapWith(matcher: Props): Props {
    return { defaultService: "map-default", pathMatchers: [{ name: "m", defaultService: "default", ...matcher }] };
}

/** Which rule serves a request for the pattern, and the service it names. */
function served(map: Props, pattern: string): { where: string; service: unknown; timeout?: number } {
    const [route] = routesFor(map, pattern);
    return { where: route.where, service: route.service(), timeout: route.routeTimeoutSec };
}

describe("policies: URL-map path matching", () => {
    it("matches an exact pattern only to that path: /ws is not /wsx, /w or /ws/", () => {
        assert.equal(pathMatches("/ws", "/ws"), true);
        for (const other of ["/wsx", "/w", "/ws/", "/other", "/"]) {
            assert.equal(pathMatches("/ws", other), false, other);
        }
    });
    it("matches a /x/* wildcard to paths under /x/, never to /x itself or /xy", () => {
        assert.equal(pathMatches("/ws/*", "/ws/x"), true);
        assert.equal(pathMatches("/ws/*", "/ws/a/b"), true);
        assert.equal(pathMatches("/ws/*", "/ws"), false);
        assert.equal(pathMatches("/ws/*", "/wsx/y"), false);
        assert.equal(pathMatches("/*", "/anything"), true);
    });
    it("probes a wildcard below it and an exact path as itself; /x/* needs /x beside it", () => {
        assert.equal(probePath("/ws/*"), "/ws/x");
        assert.equal(probePath("/ws"), "/ws");
        assert.equal(wildcardBase("/ws/*"), "/ws");
        assert.equal(wildcardBase("/*"), undefined);
        assert.equal(wildcardBase("/ws"), undefined);
    });
    it("names each problem of a path pattern, and none of a valid one", () => {
        assert.equal(pathPatternProblem("ws"), "does not start with /");
        assert.equal(pathPatternProblem("*"), "does not start with /");
        for (const starred of ["/ws*", "/w*s", "/*/ws", "/ws/**", "/ws*/"]) {
            assert.equal(pathPatternProblem(starred), "has * somewhere other than right after a final /", starred);
        }
        assert.equal(pathPatternProblem("/ws x"), "contains whitespace");
        assert.equal(pathPatternProblem("/ws\t/*"), "contains whitespace");
        for (const valid of ["/", "/ws", "/ws/*", "/*", "/a/b/*"]) {
            assert.equal(pathPatternProblem(valid), undefined, valid);
        }
    });
});

describe("policies: which rule of a URL map serves a path", () => {
    it("picks the longest matching path rule whatever the order, the first on equal length", () => {
        const rules = [
            { paths: ["/ws/*"], service: "short" },
            { paths: ["/ws/chat/*"], service: "long" },
            { paths: ["/ws/room/*"], service: "room" },
        ];
        assert.equal(served(mapWith({ pathRules: rules }), "/ws/chat/*").service, "long");
        assert.equal(served(mapWith({ pathRules: [...rules].reverse() }), "/ws/chat/*").service, "long");
        assert.equal(served(mapWith({ pathRules: rules }), "/ws/other").service, "short");
        const tie = [
            { paths: ["/ws/a/*"], service: "first" },
            { paths: ["/ws/*", "/ws/a/*"], service: "second" },
        ];
        assert.deepEqual(served(mapWith({ pathRules: tie }), "/ws/a/*"), {
            where: "pathMatchers[0].pathRules[0]",
            service: "first",
            timeout: undefined,
        });
    });
    it("falls back to the matcher's default, with its route timeout, when no rule matches", () => {
        const map = mapWith({
            pathRules: [{ paths: ["/wsx"], service: "x" }],
            defaultRouteAction: { timeout: { seconds: "90" } },
        });
        assert.deepEqual(served(map, "/ws"), {
            where: "pathMatchers[0].defaultService",
            service: "default",
            timeout: 90,
        });
        assert.deepEqual(served({ defaultService: "only", defaultRouteAction: { timeout: { seconds: "7" } } }, "/ws"), {
            where: "defaultService",
            service: "only",
            timeout: 7,
        });
    });
    it("matches route rules by full path (exactly) and by prefix, the lowest priority number first", () => {
        const routeRules = [
            { priority: 20, matchRules: [{ prefixMatch: "/ws" }], service: "prefix" },
            {
                priority: 10,
                matchRules: [{ fullPathMatch: "/ws" }],
                service: "full",
                routeAction: { timeout: { seconds: "3600" } },
            },
            { priority: 5, matchRules: [{ fullPathMatch: "/w" }, { headerMatches: [] }], service: "w-only" },
        ];
        assert.deepEqual(served(mapWith({ routeRules }), "/ws"), {
            where: "pathMatchers[0].routeRules[1]",
            service: "full",
            timeout: 3600,
        });
        assert.deepEqual(served(mapWith({ routeRules }), "/ws/*"), {
            where: "pathMatchers[0].routeRules[0]",
            service: "prefix",
            timeout: undefined,
        });
        assert.equal(served(mapWith({ routeRules }), "/chat").service, "default");
    });
    it("matches a route rule when any one of its match rules does", () => {
        const routeRules = [
            { priority: 1, matchRules: [{ fullPathMatch: "/chat" }, { prefixMatch: "/ws" }], service: "either" },
        ];
        assert.equal(served(mapWith({ routeRules }), "/ws").service, "either");
        assert.equal(served(mapWith({ routeRules }), "/chat").service, "either");
    });
    it("lists every route, route rules with their weighted backend and matched paths", () => {
        const routes = allRoutes({
            pathMatchers: [
                {
                    defaultService: "d",
                    pathRules: [{ paths: ["/ws", 7], service: "p" }],
                    routeRules: [
                        {
                            matchRules: [{ fullPathMatch: "/a" }, { prefixMatch: "/b/" }, { headerMatches: [] }],
                            routeAction: {
                                timeout: { seconds: "5" },
                                weightedBackendServices: [{ backendService: "w", weight: 100 }],
                            },
                        },
                    ],
                },
            ],
        });
        assert.deepEqual(
            routes.map((r) => [r.where, r.service(), r.routeTimeoutSec, r.paths]),
            [
                ["pathMatchers[0].defaultService", "d", undefined, undefined],
                ["pathMatchers[0].pathRules[0]", "p", undefined, ["/ws"]],
                ["pathMatchers[0].routeRules[0]", "w", 5, ["/a", "/b/"]],
            ],
        );
        assert.equal(allRoutes({ defaultRouteAction: { timeout: { seconds: "9" } } })[0].routeTimeoutSec, 9);
    });
    it("calls a map redirect-only only when it redirects and routes nothing", () => {
        const redirect = { defaultUrlRedirect: { httpsRedirect: true } };
        assert.equal(isRedirectOnly(redirect), true);
        assert.equal(isRedirectOnly({ ...redirect, defaultService: "s" }), false);
        assert.equal(isRedirectOnly({ ...redirect, pathMatchers: [{ defaultService: "s" }] }), false);
        assert.equal(isRedirectOnly({ defaultService: "s" }), false);
    });
    it("takes a route rule only when no path rule matches", () => {
        const map = mapWith({
            pathRules: [{ paths: ["/ws"], service: "path-rule" }],
            routeRules: [{ priority: 1, matchRules: [{ prefixMatch: "/" }], service: "route-rule" }],
        });
        assert.equal(served(map, "/ws").service, "path-rule");
        assert.equal(served(map, "/other").service, "route-rule");
    });
});

describe("policies: enforce-websocket-paths on malformed patterns", () => {
    const rule = policyNamed("enforce-websocket-paths") as ResourceValidationPolicy;
    const withPaths = (paths: string[]) => {
        const map = websocketUrlMap(websocketBackend());
        const matcher = (map.props.pathMatchers as Props[])[0];
        const rules = matcher.pathRules as Props[];
        return changed(map, {
            pathMatchers: [
                { ...matcher, pathRules: [{ ...rules[0], paths: [...(rules[0].paths as string[]), ...paths] }] },
            ],
        });
    };
    for (const [path, problem] of [
        ["ws-no-slash", /does not start with \//],
        ["/ws x", /contains whitespace/],
        ["/a*/b", /has \* somewhere other than right after a final \//],
    ] as const) {
        it(`rejects "${path}"`, async () => {
            const outcome = await runResourcePolicy(rule, withPaths([path]));
            assert.equal(outcome.violations.length, 1, outcome.violations.join("\n"));
            assert.match(outcome.violations[0], problem);
        });
    }
});
