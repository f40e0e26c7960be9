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

interface Verdict {
    /** Lifetimes under the minimum; empty when the route holds the socket. */
    readonly lifetimes: Lifetime[];
    /** Said after the lifetime when the service reference matched no backend of the stack. */
    readonly note: string;
}

/**
 * The route's lifetimes under the minimum, reading its service reference only when the answer
 * depends on it. A route timeout under the minimum is too short whatever it reaches: every
 * lifetime is at most the route's own timeout. Otherwise an unknown reference (a new stack at
 * preview) is judged against every backend the map can reach: if all of them hold the socket, so
 * does the route; if none does, it is too short whichever it is; only when some do and some do not
 * is the reference read for real, which turns the rule into the SDK's "can't run during preview"
 * note. A reference that names no backend of the stack fails closed against the short ones.
 */
function shortLifetimes(
    route: Route,
    candidates: PolicyResource[],
    stack: PolicyResource[],
    minTimeoutSec: number,
): Verdict {
    if (route.routeTimeoutSec !== undefined && route.routeTimeoutSec < minTimeoutSec) {
        const seconds = route.routeTimeoutSec;
        return { lifetimes: [{ seconds, because: `routeAction.timeout is ${seconds} s` }], note: "" };
    }
    const reference = peek(route.service);
    const known = resolveService(reference, candidates);
    const all = (known ? [known] : candidates).map((b) => lifetime(route, b, stack));
    const lifetimes = all.filter((l) => l.seconds < minTimeoutSec);
    // Unknown, and some backends would hold the socket while others would not: only the
    // reference can tell, so it is read for real. When every one is short, the answer is known.
    if (reference === UNKNOWN && lifetimes.length > 0 && lifetimes.length < all.length) {
        route.service();
    }
    const note = known
        ? ""
        : reference === UNKNOWN
          ? " (its service is not known until the stack exists, and no backend the map uses holds a WebSocket that long)"
          : ` (its service ${JSON.stringify(reference)} matches no backend of the stack by name, so every backend the map uses was judged)`;
    return { lifetimes, note };
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
        "Route WebSocket paths to an instance-group or zonal-NEG backend whose timeoutSec is at least minTimeoutSec, and set the route's routeAction.timeout to at least the same; serverless backends end a WebSocket within an hour.",
    configSchema: schemaFor("minTimeoutSec", "websocketPaths"),
    validateStack: (args, report) => {
        const { minTimeoutSec, websocketPaths } = settingsFrom(
            () => args.getConfig(),
            "minTimeoutSec",
            "websocketPaths",
        );
        const maps = routingMaps(args);
        for (const map of maps) {
            const candidates = servicesOf(map);
            // The classic scheme has no route timeouts: the backend's timeoutSec is what applies.
            const classic = isClassic(map, args.resources);
            const findings = new Map<string, { paths: string[]; lifetime: Lifetime; note: string }>();
            for (const path of websocketPaths) {
                for (const found of routesFor(map.props, path)) {
                    const route = classic ? { ...found, routeTimeoutSec: undefined } : found;
                    const short = shortLifetimes(route, candidates, args.resources, minTimeoutSec);
                    if (short.lifetimes.length === 0) {
                        continue;
                    }
                    const entry = findings.get(route.where) ?? {
                        paths: [],
                        lifetime: short.lifetimes[0],
                        note: short.note,
                    };
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
