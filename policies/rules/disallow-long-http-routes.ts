import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { cloudRunRequestTimeout, cloudRunServiceOf, serverlessNegsOf, timeoutOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { SERVERLESS_LB_TIMEOUT_SEC } from "../lib/gcp-facts";
import { peek, UNKNOWN } from "../lib/props";
import { explain, subject } from "../lib/report";
import { allRoutes, isClassic, resolveService, Route, routingMaps, servicesOf, websocketRoutes } from "../lib/urlmaps";

/** How long a plain request on this route may wait, and why. */
function effectiveTimeout(
    route: Route,
    backend: PolicyResource,
    stack: PolicyResource[],
): { seconds: number; because: string } {
    if (route.routeTimeoutSec !== undefined) {
        return { seconds: route.routeTimeoutSec, because: `routeAction.timeout is ${route.routeTimeoutSec} s` };
    }
    const negs = serverlessNegsOf(backend, stack);
    if (negs.length > 0) {
        const seconds = Math.min(SERVERLESS_LB_TIMEOUT_SEC, cloudRunRequestTimeout(cloudRunServiceOf(negs[0], stack)));
        return {
            seconds,
            because: `no route timeout, and serverless backend ${subject(backend.type, backend.name)} waits up to ${seconds} s`,
        };
    }
    const seconds = timeoutOf(backend.props);
    return {
        seconds,
        because: `no route timeout in effect, so backend ${subject(backend.type, backend.name)} timeoutSec applies (${seconds} s)`,
    };
}

type Wait = { seconds: number; because: string };

/**
 * How long a plain request on the route may wait, reading the service reference only when the
 * answer depends on it: a route timeout decides alone; an unknown reference (a new stack at
 * preview) is judged against every backend the map can reach, and read for real (the SDK's
 * "can't run" note) only when some of them would wait too long and others would not.
 */
function longestWait(
    route: Route,
    candidates: PolicyResource[],
    stack: PolicyResource[],
    maxHttpTimeoutSec: number,
): Wait | undefined {
    if (route.routeTimeoutSec !== undefined) {
        return { seconds: route.routeTimeoutSec, because: `routeAction.timeout is ${route.routeTimeoutSec} s` };
    }
    const reference = peek(route.service);
    if (reference !== UNKNOWN) {
        const backend = resolveService(reference, candidates);
        return backend ? effectiveTimeout(route, backend, stack) : undefined;
    }
    const waits = candidates.map((b) => effectiveTimeout(route, b, stack));
    const long = waits.filter((w) => w.seconds > maxHttpTimeoutSec);
    if (long.length > 0 && long.length < waits.length) {
        route.service();
    }
    return long.length > 0
        ? { ...long[0], because: `${long[0].because}, as for every backend the map uses` }
        : waits[0];
}

/**
 * A route that holds a connection as long as a WebSocket route but whose paths the pack's
 * websocketPaths do not list: most likely a WebSocket path the pack was never told about, so the
 * WebSocket rules judged the stack against the wrong paths.
 */
function unlistedWebsocketRoute(map: PolicyResource, route: Route, wait: Wait, websocketPaths: string[]): string {
    const paths = (route.paths ?? []).join(", ");
    return explain(map.type, map.name, {
        property: `${route.where} (serving ${paths})`,
        found: `a route that holds a connection ${wait.seconds} s (${wait.because}), as long as a WebSocket route, while the pack's websocketPaths (${websocketPaths.join(", ") || "none"}) do not list its paths`,
        required: "WebSocket routes listed in websocketPaths, and plain routes with a short timeout",
        fix: `if ${paths} carry WebSockets, add them to the pack's websocketPaths (the offline preview and the deploy pipeline pass the stack's own; for pulumi preview, --policy-pack-config); otherwise give the route a short routeAction.timeout`,
        why: "the WebSocket rules judge only the configured paths, so a WebSocket route they do not know is never checked",
    });
}

export const disallowLongHttpRoutes: StackValidationPolicy = {
    name: "disallow-long-http-routes",
    description:
        "A URL-map route that serves no configured WebSocket path should time out within maxHttpTimeoutSec, because a backend timeout sized for WebSockets otherwise lets a hung plain request hold its connection for up to a day, and one that holds connections for minTimeoutSec or more is flagged as a WebSocket route websocketPaths do not list.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Give every non-WebSocket path rule and the default route a routeAction.timeout (defaultRouteAction.timeout for the default), such as 30 s.",
    configSchema: schemaFor("maxHttpTimeoutSec", "websocketPaths", "minTimeoutSec"),
    validateStack: (args, report) => {
        const { maxHttpTimeoutSec, websocketPaths, minTimeoutSec } = settingsFrom(
            () => args.getConfig(),
            "maxHttpTimeoutSec",
            "websocketPaths",
            "minTimeoutSec",
        );
        const maps = routingMaps(args);
        for (const map of maps) {
            const websocket = new Set(websocketRoutes(map, websocketPaths).map((r) => r.route.where));
            // The classic scheme takes no route timeouts: the backend's timeoutSec is what applies.
            const classic = isClassic(map, args.resources);
            const candidates = servicesOf(map);
            for (const found of allRoutes(map.props).filter((r) => !websocket.has(r.where))) {
                const route = classic ? { ...found, routeTimeoutSec: undefined } : found;
                const timeout = longestWait(route, candidates, args.resources, maxHttpTimeoutSec);
                if (timeout === undefined) {
                    continue; // A backend outside the stack, or a bucket: nothing here to judge.
                }
                if (timeout.seconds >= minTimeoutSec && (route.paths?.length ?? 0) > 0) {
                    report(unlistedWebsocketRoute(map, route, timeout, websocketPaths), map.urn);
                } else if (timeout.seconds > maxHttpTimeoutSec) {
                    report(
                        explain(map.type, map.name, {
                            property: route.where,
                            found: `a route serving no WebSocket path that waits up to ${timeout.seconds} s: ${timeout.because}`,
                            required: `at most ${maxHttpTimeoutSec} s`,
                            fix: classic
                                ? "move to EXTERNAL_MANAGED and set a route timeout, or serve plain paths from a backend service with a short timeoutSec"
                                : `set ${route.where.endsWith("defaultService") ? route.where.replace(/defaultService$/, "defaultRouteAction") : `${route.where}.routeAction`}.timeout to ${Math.min(30, maxHttpTimeoutSec)} s`,
                            why: "the backend service timeout applies to every request on it, so a hung plain request holds a connection that long",
                        }),
                        map.urn,
                    );
                }
            }
        }
    },
};
