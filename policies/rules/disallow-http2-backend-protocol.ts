import { ResourceValidationPolicy } from "@pulumi/policy";
import { JUDGES, lbKindOf, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { explain } from "../lib/report";
import { BACKEND_SERVICE_TYPES } from "../lib/types";

export const disallowHttp2BackendProtocol: ResourceValidationPolicy = {
    name: "disallow-http2-backend-protocol",
    description: `${JUDGES.application} should speak HTTPS or HTTP rather than HTTP2 to their backends unless the backend needs HTTP/2, because the load balancer pools no connections over HTTP/2 and so opens more of them.`,
    enforcementLevel: "advisory",
    severity: "low",
    remediationSteps:
        "Set protocol HTTPS (or HTTP) on the backend service; keep HTTP2 only for a backend that needs it, such as gRPC, and never for WebSocket paths (enforce-websocket-backend-protocol).",
    validateResource: forTypes(BACKEND_SERVICE_TYPES, (args, report) => {
        requireApplication(args, "the HTTP/2 backend protocol");
        const kind = lbKindOf(args.type, args.props);
        if (kind.protocol === "HTTP2") {
            report(
                explain(args.type, args.name, {
                    property: "protocol",
                    found: '"HTTP2"',
                    required: "HTTPS or HTTP, unless the backend needs HTTP/2",
                    fix: 'set protocol: "HTTPS", which keeps TLS to the backends',
                    why: "connection pooling is not available with HTTP/2 between the load balancer and its backends, which raises the number of TCP connections and backend latency (gcpdiag lb/BP/2025_001)",
                }),
            );
        }
    }),
};
