import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { serverlessNegsOf } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { IN_FLIGHT_BALANCING_MODE } from "../lib/gcp-facts";
import { list } from "../lib/props";
import { explain } from "../lib/report";
import { routingMaps, websocketRoutes } from "../lib/urlmaps";

export const disallowWebsocketRateBalancing: StackValidationPolicy = {
    name: "disallow-websocket-rate-balancing",
    description:
        "A backend that serves WebSocket paths and balances by RATE spreads only new connections, so hours-long sockets pile up on the instances that were there first; IN_FLIGHT balances on open requests but is Beta in the provider.",
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps:
        "Keep RATE (GA) with maxRatePerInstance near what one instance can accept per second and autoscaling that adds instances early, and have clients reconnect so sockets rebalance; move to IN_FLIGHT with maxInFlightRequestsPerInstance once it is GA.",
    configSchema: schemaFor("websocketPaths"),
    validateStack: (args, report) => {
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const maps = routingMaps(args);
        const judged = new Set<PolicyResource>();
        for (const map of maps) {
            for (const { known } of websocketRoutes(map, websocketPaths)) {
                // Only a route whose backend is known: guessing would advise on backends that carry no socket.
                if (!known || judged.has(known) || serverlessNegsOf(known, args.resources).length > 0) {
                    continue;
                }
                judged.add(known);
                list(known.props.backends).forEach((backend, i) => {
                    if (backend.balancingMode === "RATE") {
                        report(
                            explain(known.type, known.name, {
                                property: `backends[${i}].balancingMode`,
                                found: '"RATE" on a backend that holds WebSockets',
                                required: `a mode that counts open connections (${IN_FLIGHT_BALANCING_MODE}, Beta in @pulumi/gcp 9.37), or RATE with the trade-off accepted`,
                                fix: "keep maxRatePerInstance near one instance's accept rate, autoscale early and let clients reconnect; adopt IN_FLIGHT with maxInFlightRequestsPerInstance when it is GA",
                                why: "RATE counts requests per second, so a socket counts once when it opens and instances added later receive only new sockets",
                            }),
                            known.urn,
                        );
                    }
                });
            }
        }
    },
};
