import { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { pathMatches } from "./gcp-facts";
import { isSet, list, Maybe, peek, record, routeTimeoutSeconds } from "./props";
import { referencedBy, schemeOf } from "./backends";
import { lbKindOf } from "./lb-kind";
import {
    BACKEND_SERVICE_TYPES,
    FORWARDING_RULE_TYPES,
    HTTP_PROXY_TYPES,
    HTTPS_PROXY_TYPES,
    URL_MAP_TYPES,
} from "./types";

type Props = Record<string, unknown>;

/** A URL map whose only job is to redirect (for example HTTP to HTTPS) routes no traffic. */
export function isRedirectOnly(props: Props): boolean {
    return (
        record(props.defaultUrlRedirect) !== undefined &&
        props.defaultService === undefined &&
        list(props.pathMatchers).length === 0
    );
}

/** The stack's URL maps that route traffic; a stack rule with none says it does not apply. */
export function routingMaps(args: StackValidationArgs): PolicyResource[] {
    const maps = args.resources.filter((r) => URL_MAP_TYPES.includes(r.type) && !isRedirectOnly(r.props));
    if (maps.length === 0) {
        args.notApplicable("the stack has no URL map that routes traffic");
    }
    return maps;
}

/** A concrete request path a WebSocket path pattern stands for: `/ws/*` is probed as `/ws/x`. */
export function probePath(pattern: string): string {
    return pattern.endsWith("/*") ? `${pattern.slice(0, -1)}x` : pattern;
}

/** Where a request for one WebSocket path ends up, within one URL map. */
export interface Route {
    /** The property path of the rule, such as `pathMatchers[0].pathRules[1]`. */
    readonly where: string;
    /** Reads the backend service reference; throws on unknown values, as the SDK's proxy does. */
    readonly service: () => unknown;
    readonly routeTimeoutSec?: number;
    /** The paths a path rule lists, or a route rule's full-path and prefix matches. */
    readonly paths?: readonly string[];
}

function routeRuleMatches(rule: Props, path: string): boolean {
    return list(rule.matchRules).some((m) => {
        if (typeof m.fullPathMatch === "string") {
            return m.fullPathMatch === path;
        }
        if (typeof m.prefixMatch === "string") {
            return path.startsWith(m.prefixMatch);
        }
        return false;
    });
}

/**
 * The rule of every path matcher that serves a WebSocket path: the longest matching path rule,
 * else the first route rule by priority, else the matcher's default; with no path matchers, the
 * map's default. Follows url-map-concepts: longest path wins whatever the order.
 */
export function routesFor(map: Props, websocketPath: string): Route[] {
    const path = probePath(websocketPath);
    const matchers = list(map.pathMatchers);
    if (matchers.length === 0) {
        return [
            {
                where: "defaultService",
                service: () => map.defaultService,
                routeTimeoutSec: routeTimeoutSeconds(record(map.defaultRouteAction)?.timeout),
            },
        ];
    }
    return matchers.map((matcher, m) => {
        let best: { where: string; rule: Props; length: number } | undefined;
        list(matcher.pathRules).forEach((rule, r) => {
            for (const pattern of (rule.paths as string[] | undefined) ?? []) {
                if (pathMatches(pattern, path) && (!best || pattern.length > best.length)) {
                    best = { where: `pathMatchers[${m}].pathRules[${r}]`, rule, length: pattern.length };
                }
            }
        });
        if (!best) {
            const routeRules = list(matcher.routeRules)
                .map((rule, r) => ({ rule, r }))
                .sort((a, b) => Number(a.rule.priority ?? 0) - Number(b.rule.priority ?? 0));
            const hit = routeRules.find(({ rule }) => routeRuleMatches(rule, path));
            if (hit) {
                best = { where: `pathMatchers[${m}].routeRules[${hit.r}]`, rule: hit.rule, length: 0 };
            }
        }
        if (best) {
            const rule = best.rule;
            return {
                where: best.where,
                service: () => rule.service,
                routeTimeoutSec: routeTimeoutSeconds(record(rule.routeAction)?.timeout),
            };
        }
        return {
            where: `pathMatchers[${m}].defaultService`,
            service: () => matcher.defaultService,
            routeTimeoutSec: routeTimeoutSeconds(record(matcher.defaultRouteAction)?.timeout),
        };
    });
}

/** Backend services the URL map refers to, through its recorded dependencies. */
export function servicesOf(map: PolicyResource): PolicyResource[] {
    const all = new Set<PolicyResource>(map.dependencies);
    for (const deps of Object.values(map.propertyDependencies)) {
        deps.forEach((d) => all.add(d));
    }
    return [...all].filter((r) => BACKEND_SERVICE_TYPES.includes(r.type));
}

/** The backend service a known reference (id, self link or name) points at, among candidates. */
export function resolveService(reference: Maybe<unknown>, candidates: PolicyResource[]): PolicyResource | undefined {
    if (typeof reference !== "string") {
        return undefined;
    }
    const tail = reference.split("/").pop();
    return candidates.find((c) => peek((): unknown => c.props.name) === tail || c.name === tail);
}

/** Whether the URL map serves the classic scheme: through its backends or a forwarding rule in front. */
export function isClassic(map: PolicyResource, stack: PolicyResource[]): boolean {
    if (servicesOf(map).some((s) => lbKindOf(s.type, s.props).classic)) {
        return true;
    }
    const proxies = stack.filter(
        (r) => [...HTTP_PROXY_TYPES, ...HTTPS_PROXY_TYPES].includes(r.type) && referencedBy(r, "urlMap").includes(map),
    );
    return stack.some(
        (r) =>
            FORWARDING_RULE_TYPES.includes(r.type) &&
            schemeOf(r.props) === "EXTERNAL" &&
            referencedBy(r, "target").some((t) => proxies.includes(t)),
    );
}

/** Every route of a URL map: the map's default, each matcher's default, each path rule and route rule. */
export function allRoutes(map: Props): Route[] {
    const timeoutOf = (action: unknown) => routeTimeoutSeconds(record(action)?.timeout);
    const routes: Route[] = [];
    // isSet, not a read: on a new stack the default service is unknown, and whether a default
    // route exists must not turn into the SDK's can't-run note.
    if (isSet(map, "defaultService") || isSet(map, "defaultRouteAction")) {
        routes.push({
            where: "defaultService",
            service: () => map.defaultService,
            routeTimeoutSec: timeoutOf(map.defaultRouteAction),
        });
    }
    list(map.pathMatchers).forEach((matcher, m) => {
        routes.push({
            where: `pathMatchers[${m}].defaultService`,
            service: () => matcher.defaultService,
            routeTimeoutSec: timeoutOf(matcher.defaultRouteAction),
        });
        list(matcher.pathRules).forEach((rule, r) => {
            routes.push({
                where: `pathMatchers[${m}].pathRules[${r}]`,
                service: () => rule.service,
                routeTimeoutSec: timeoutOf(rule.routeAction),
                paths: Array.isArray(rule.paths)
                    ? (rule.paths as unknown[]).filter((p): p is string => typeof p === "string")
                    : [],
            });
        });
        list(matcher.routeRules).forEach((rule, r) => {
            const weighted = () => list(record(rule.routeAction)?.weightedBackendServices)[0]?.backendService;
            routes.push({
                where: `pathMatchers[${m}].routeRules[${r}]`,
                service: () => rule.service ?? weighted(),
                routeTimeoutSec: timeoutOf(rule.routeAction),
                paths: list(rule.matchRules).flatMap((match) =>
                    [match.fullPathMatch, match.prefixMatch].filter((p): p is string => typeof p === "string"),
                ),
            });
        });
    });
    return routes;
}

/** One route that serves WebSocket paths, and the backend services it may send them to. */
export interface WebsocketRoute {
    readonly route: Route;
    readonly paths: string[];
    /** The one service the route names, when it resolves among the map's services. */
    readonly known?: PolicyResource;
    /** Known: just that one. Unknown (a new stack) or unresolved: every service the map uses. */
    readonly backends: PolicyResource[];
}

/**
 * The routes of a URL map that serve the given WebSocket paths, one entry per route. A rule that
 * finds a problem on an unknown reference calls `route.service()` so the SDK reports it cannot
 * judge at preview, as enforce-websocket-lifetime does.
 */
export function websocketRoutes(map: PolicyResource, websocketPaths: readonly string[]): WebsocketRoute[] {
    const candidates = servicesOf(map);
    const byWhere = new Map<string, WebsocketRoute>();
    for (const path of websocketPaths) {
        for (const route of routesFor(map.props, path)) {
            const existing = byWhere.get(route.where);
            if (existing) {
                existing.paths.push(path);
                continue;
            }
            const known = resolveService(peek(route.service), candidates);
            byWhere.set(route.where, { route, paths: [path], known, backends: known ? [known] : candidates });
        }
    }
    return [...byWhere.values()];
}
