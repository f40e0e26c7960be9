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

export const disallowLongHttpRoutes: StackValidationPolicy = {
    name: "disallow-long-http-routes",
    description:
        "A URL-map route that serves no WebSocket path should time out within maxHttpTimeoutSec, because a backend timeout sized for WebSockets otherwise lets a hung plain request hold its connection for up to a day.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps:
        "Give every non-WebSocket path rule and the default route a routeAction.timeout (defaultRouteAction.timeout for the default), such as 30 s.",
    configSchema: schemaFor("maxHttpTimeoutSec", "websocketPaths"),
    validateStack: (args, report) => {
        const { maxHttpTimeoutSec, websocketPaths } = settingsFrom(
            args.getConfig,
            "maxHttpTimeoutSec",
            "websocketPaths",
        );
        const maps = routingMaps(args);
        for (const map of maps) {
            const websocket = new Set(websocketRoutes(map, websocketPaths).map((r) => r.route.where));
            // The classic scheme takes no route timeouts: the backend's timeoutSec is what applies.
            const classic = isClassic(map, args.resources);
            const candidates = servicesOf(map);
            for (const found of allRoutes(map.props).filter((r) => !websocket.has(r.where))) {
                const route = classic ? { ...found, routeTimeoutSec: undefined } : found;
                if (route.routeTimeoutSec === undefined && peek(route.service) === UNKNOWN) {
                    route.service();
                }
                const backend =
                    route.routeTimeoutSec === undefined ? resolveService(peek(route.service), candidates) : undefined;
                if (route.routeTimeoutSec === undefined && !backend) {
                    continue; // A backend outside the stack, or a bucket: nothing here to judge.
                }
                const timeout = backend
                    ? effectiveTimeout(route, backend, args.resources)
                    : {
                          seconds: route.routeTimeoutSec ?? 0,
                          because: `routeAction.timeout is ${route.routeTimeoutSec} s`,
                      };
                if (timeout.seconds > maxHttpTimeoutSec) {
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
