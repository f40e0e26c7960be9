import { ResourceValidationPolicy } from "@pulumi/policy";
import { schemaFor, settingsFrom } from "../lib/config";
import {
    HOP_BY_HOP_PREFIXES,
    headerNameProblem,
    URL_MAP_UNTOUCHABLE_HEADERS,
    WEBSOCKET_HANDSHAKE_HEADERS,
    WEBSOCKET_HANDSHAKE_PREFIXES,
} from "../lib/gcp-facts";
import { forTypes } from "../lib/policy";
import { list, record } from "../lib/props";
import { explain } from "../lib/report";
import { URL_MAP_TYPES } from "../lib/types";
import { isRedirectOnly, routesFor } from "../lib/urlmaps";

type Props = Record<string, unknown>;

/** One `headerAction` of a URL map: where it is, and which routes (by `Route.where`) it applies to. */
interface Site {
    readonly where: string;
    readonly action: Props;
    readonly covers: (route: string) => boolean;
}

/** `routeAction.weightedBackendServices[].headerAction` of one route, each applying to that route only. */
function weightedSites(where: string, routeAction: unknown, route: string): Site[] {
    return list(record(routeAction)?.weightedBackendServices).flatMap((w, i) => {
        const action = record(w.headerAction);
        return action
            ? [{ where: `${where}.weightedBackendServices[${i}].headerAction`, action, covers: (r) => r === route }]
            : [];
    });
}

/**
 * Every headerAction of a URL map: the map's, each path matcher's, each route rule's, and each
 * weighted backend's under any route action. A path rule has no headerAction of its own (@pulumi/gcp
 * 9.37 types/input.d.ts, `URLMapPathMatcherPathRule`), only under its weighted backends.
 */
function headerActionSites(map: Props): Site[] {
    const sites: Site[] = [];
    const own = (where: string, value: unknown, covers: (route: string) => boolean) => {
        const action = record(value);
        if (action) {
            sites.push({ where: `${where}headerAction`, action, covers });
        }
    };
    own("", map.headerAction, () => true);
    sites.push(...weightedSites("defaultRouteAction", map.defaultRouteAction, "defaultService"));
    list(map.pathMatchers).forEach((matcher, m) => {
        const at = `pathMatchers[${m}]`;
        own(`${at}.`, matcher.headerAction, (r) => r.startsWith(`${at}.`));
        sites.push(...weightedSites(`${at}.defaultRouteAction`, matcher.defaultRouteAction, `${at}.defaultService`));
        list(matcher.pathRules).forEach((rule, r) => {
            const where = `${at}.pathRules[${r}]`;
            sites.push(...weightedSites(`${where}.routeAction`, rule.routeAction, where));
        });
        list(matcher.routeRules).forEach((rule, r) => {
            const where = `${at}.routeRules[${r}]`;
            own(`${where}.`, rule.headerAction, (route) => route === where);
            sites.push(...weightedSites(`${where}.routeAction`, rule.routeAction, where));
        });
    });
    return sites;
}

/** Why a URL map may not add this header, or undefined. */
function addProblem(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (URL_MAP_UNTOUCHABLE_HEADERS.includes(lower)) {
        return `is ${name}, which the load balancer sets from the request and a URL map may neither add nor remove`;
    }
    if (HOP_BY_HOP_PREFIXES.some((p) => lower.startsWith(p))) {
        return "is a hop-by-hop Proxy-* header, which belongs to one connection and is never forwarded";
    }
    return headerNameProblem(name);
}

/** Why a URL map may not remove this header here, or undefined. */
function removeProblem(name: string, request: boolean, websocketPaths: string[]): string | undefined {
    const lower = name.toLowerCase();
    if (URL_MAP_UNTOUCHABLE_HEADERS.includes(lower)) {
        return `is ${name}, which the load balancer sets from the request and a URL map may neither add nor remove`;
    }
    const handshake =
        WEBSOCKET_HANDSHAKE_HEADERS.includes(lower) || WEBSOCKET_HANDSHAKE_PREFIXES.some((p) => lower.startsWith(p));
    if (request && handshake && websocketPaths.length > 0) {
        return `is part of the WebSocket handshake, and this headerAction applies to a route serving ${websocketPaths.join(", ")}: without it the backend sees a plain request and the upgrade fails`;
    }
    return undefined;
}

const LISTS = [
    { key: "requestHeadersToAdds", request: true, adds: true },
    { key: "responseHeadersToAdds", request: false, adds: true },
    { key: "requestHeadersToRemoves", request: true, adds: false },
    { key: "responseHeadersToRemoves", request: false, adds: false },
] as const;

export const disallowInvalidHeaderActions: ResourceValidationPolicy = {
    name: "disallow-invalid-header-actions",
    description:
        "URL-map header actions, at every level they appear, must not add hop-by-hop or reserved headers, must not add or remove Host or :authority, and must not remove the WebSocket handshake's request headers on a route that serves a WebSocket path.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Remove the offending entry from requestHeadersToAdds, responseHeadersToAdds, requestHeadersToRemoves or responseHeadersToRemoves; the load balancer proxies the WebSocket Upgrade natively, so no header action is needed for WebSockets. Sources: cloud.google.com/load-balancing/docs/https/custom-headers-global (header names), .../https/setting-up-global-traffic-mgmt#request-response-headers (URL-map header actions), RFC 6455 section 4.1 (the handshake's headers).",
    configSchema: schemaFor("websocketPaths"),
    validateResource: forTypes(URL_MAP_TYPES, (args, report) => {
        if (isRedirectOnly(args.props)) {
            args.notApplicable("the URL map only redirects");
        }
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const websocketRoutes = websocketPaths.map((path) => ({
            path,
            routes: routesFor(args.props, path).map((r) => r.where),
        }));
        for (const site of headerActionSites(args.props)) {
            const served = websocketRoutes.filter((w) => w.routes.some(site.covers)).map((w) => w.path);
            for (const { key, request, adds } of LISTS) {
                const entries: unknown[] = Array.isArray(site.action[key]) ? (site.action[key] as unknown[]) : [];
                entries.forEach((entry, i) => {
                    const name = adds ? record(entry)?.headerName : entry;
                    if (typeof name !== "string") {
                        return;
                    }
                    const problem = adds ? addProblem(name) : removeProblem(name, request, served);
                    if (problem) {
                        report(
                            explain(args.type, args.name, {
                                property: `${site.where}.${key}[${i}]${adds ? ".headerName" : ""}`,
                                found: JSON.stringify(name),
                                required: adds
                                    ? "a header name that is not hop-by-hop, reserved, Host or :authority"
                                    : "no Host or :authority, and no WebSocket handshake header on a WebSocket route",
                                fix: `remove ${JSON.stringify(name)} from ${site.where}.${key}`,
                                why: `header ${name} ${problem}`,
                            }),
                        );
                    }
                });
            }
        }
    }),
};
