import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { schemaFor, settingsFrom } from "../lib/config";
import { WEBSOCKET_BACKEND_PROTOCOLS } from "../lib/gcp-facts";
import { lbKindOf } from "../lib/lb-kind";
import { peek, UNKNOWN } from "../lib/props";
import { explain, show, subject } from "../lib/report";
import { routingMaps, websocketRoutes } from "../lib/urlmaps";

export const enforceWebsocketBackendProtocol: StackValidationPolicy = {
    name: "enforce-websocket-backend-protocol",
    description:
        "A backend service that a URL map (so an Application Load Balancer) sends WebSocket paths to must speak HTTP or HTTPS to its backends, because the WebSocket Upgrade exists only in HTTP/1.1.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps:
        "Set protocol HTTP (or HTTPS) on the WebSocket backend service; serve gRPC or HTTP/2 traffic from a separate backend service at other paths.",
    configSchema: schemaFor("websocketPaths"),
    validateStack: (args, report) => {
        const { websocketPaths } = settingsFrom(() => args.getConfig(), "websocketPaths");
        const maps = routingMaps(args);
        const found = new Map<PolicyResource, string[]>();
        for (const map of maps) {
            for (const { route, paths, backends } of websocketRoutes(map, websocketPaths)) {
                const wrong = backends.filter(
                    (b) => !WEBSOCKET_BACKEND_PROTOCOLS.includes(lbKindOf(b.type, b.props).protocol),
                );
                if (wrong.length === 0) {
                    continue;
                }
                if (peek(route.service) === UNKNOWN) {
                    // Which backend serves the path is not known yet: let the SDK say so.
                    route.service();
                }
                for (const backend of wrong) {
                    found.set(backend, [
                        ...(found.get(backend) ?? []),
                        `${subject(map.type, map.name)} ${route.where} (${paths.join(", ")})`,
                    ]);
                }
            }
        }
        for (const [backend, routes] of found) {
            report(
                explain(backend.type, backend.name, {
                    property: "protocol",
                    found: `${show(backend.props.protocol)} on a backend that ${routes.join("; ")} sends WebSocket paths to`,
                    required: WEBSOCKET_BACKEND_PROTOCOLS.join(" or "),
                    fix: 'set protocol: "HTTP" (or "HTTPS" with TLS on the backends), and keep HTTP/2 or gRPC services on their own backend service',
                    why: "the WebSocket handshake is an HTTP/1.1 Upgrade, which HTTP/2, H2C and gRPC backends do not carry, so every upgrade fails",
                }),
                backend.urn,
            );
        }
    },
};
