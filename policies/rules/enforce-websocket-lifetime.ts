import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { cloudRunRequestTimeout, cloudRunServiceOf, serverlessNegsOf, timeoutOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC } from "../lib/gcp-facts";
import { peek, UNKNOWN } from "../lib/props";
import { explain, subject } from "../lib/report";
import { isClassic, resolveService, Route, routesFor, routingMaps, servicesOf } from "../lib/urlmaps";

interface Lifetime {
    readonly seconds: number;
    /** How the number came about, for the message. */
    readonly because: string;
}

/** The longest a WebSocket can live on a route to one backend service. */
function lifetime(route: Route, backend: PolicyResource, stack: PolicyResource[]): Lifetime {
    const negs = serverlessNegsOf(backend, stack);
    if (negs.length > 0) {
        const run = cloudRunServiceOf(negs[0], stack);
        const runTimeout = cloudRunRequestTimeout(run);
        const seconds = Math.min(
            route.routeTimeoutSec ?? CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
            CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC,
            runTimeout,
        );
        return {
            seconds,
            because: `backend ${subject(backend.type, backend.name)} is serverless: Cloud Run${run ? ` service "${run.name}"` : ""} ends the WebSocket at its request timeout (${runTimeout} s, at most ${CLOUD_RUN_MAX_REQUEST_TIMEOUT_SEC} s)`,
        };
    }
    if (route.routeTimeoutSec !== undefined) {
        return { seconds: route.routeTimeoutSec, because: `routeAction.timeout is ${route.routeTimeoutSec} s` };
    }
    const timeout = timeoutOf(backend.props);
    return {
        seconds: timeout,
        because: `no routeAction.timeout in effect, so backend ${subject(backend.type, backend.name)} timeoutSec applies (${backend.props.timeoutSec === undefined ? "unset, the API default 30" : timeout} s)`,
    };
}

export const enforceWebsocketLifetime: StackValidationPolicy = {
    name: "enforce-websocket-lifetime",
    description:
        "Every URL-map route that serves a WebSocket path must let the connection live at least minTimeoutSec seconds, counting route timeouts, backend timeouts and Cloud Run's request timeout.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps:
        "Route WebSocket paths to an instance-group or zonal-NEG backend with timeoutSec 86400 and a routeAction.timeout of 86400 s.",
    configSchema: schemaFor("minTimeoutSec", "websocketPaths"),
    validateStack: (args, report) => {
        const { minTimeoutSec, websocketPaths } = settingsFrom(args.getConfig, "minTimeoutSec", "websocketPaths");
        const maps = routingMaps(args);
        for (const map of maps) {
            const candidates = servicesOf(map);
            // The classic scheme has no route timeouts: the backend's timeoutSec is what applies.
            const classic = isClassic(map, args.resources);
            const findings = new Map<string, { paths: string[]; lifetime: Lifetime; note: string }>();
            for (const path of websocketPaths) {
                for (const found of routesFor(map.props, path)) {
                    const route = classic ? { ...found, routeTimeoutSec: undefined } : found;
                    const reference = peek(route.service);
                    const known = resolveService(reference, candidates);
                    // When the reference is unknown (a new stack at preview) or names no backend
                    // of the stack, judge every backend the map can reach: if all of them hold the
                    // socket, so does this route. Otherwise an unknown reference is read for real,
                    // which turns the rule into the SDK's "can't run during preview" note, and an
                    // unmatched one fails closed against the short backends.
                    const backends = known ? [known] : candidates;
                    const short = backends
                        .map((b) => lifetime(route, b, args.resources))
                        .filter((l) => l.seconds < minTimeoutSec);
                    if (short.length === 0) {
                        continue;
                    }
                    if (reference === UNKNOWN) {
                        route.service();
                    }
                    const note = known
                        ? ""
                        : ` (its service ${JSON.stringify(reference)} matches no backend of the stack by name, so every backend the map uses was judged)`;
                    const entry = findings.get(route.where) ?? { paths: [], lifetime: short[0], note };
                    entry.paths.push(path);
                    findings.set(route.where, entry);
                }
            }
            for (const [where, { paths, lifetime: life, note }] of findings) {
                report(
                    explain(map.type, map.name, {
                        property: `${where} (serving ${paths.join(", ")})`,
                        found: `a WebSocket lifetime of ${life.seconds} s: ${life.because}${note}`,
                        required: `at least ${minTimeoutSec} s`,
                        fix: `send these paths to an instance-group or zonal-NEG backend with timeoutSec ${minTimeoutSec} and set routeAction.timeout to ${minTimeoutSec} s`,
                        why: "the load balancer cuts a WebSocket when its route's timeout runs out, idle or not, and clients see close code 1006",
                    }),
                    map.urn,
                );
            }
        }
    },
};
