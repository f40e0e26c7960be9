import { Policies } from "@pulumi/policy";
import { disallowAffinityWithUtilization } from "./rules/disallow-affinity-with-utilization";
import { disallowClassicAdvancedRouting } from "./rules/disallow-classic-advanced-routing";
import { disallowDuplicateProxyHeaders } from "./rules/disallow-duplicate-proxy-headers";
import { disallowHttp2BackendProtocol } from "./rules/disallow-http2-backend-protocol";
import { disallowExcessiveTimeout } from "./rules/disallow-excessive-timeout";
import { disallowInvalidCustomHeaders } from "./rules/disallow-invalid-custom-headers";
import { disallowInvalidHeaderActions } from "./rules/disallow-invalid-header-actions";
import { disallowRetiredFunctionRuntime } from "./rules/disallow-retired-function-runtime";
import { disallowLongHttpRoutes } from "./rules/disallow-long-http-routes";
import { disallowWebsocketRateBalancing } from "./rules/disallow-websocket-rate-balancing";
import { enforceAffinityLocalityPolicy } from "./rules/enforce-affinity-locality-policy";
import { enforceBackendLogging } from "./rules/enforce-backend-logging";
import { enforceBackendTimeout } from "./rules/enforce-backend-timeout";
import { enforceCloudArmor } from "./rules/enforce-cloud-armor";
import { enforceConnectionDraining } from "./rules/enforce-connection-draining";
import { enforceHealthCheckFirewall } from "./rules/enforce-health-check-firewall";
import { enforceHealthCheckLogging } from "./rules/enforce-health-check-logging";
import { enforceHttpsOnly } from "./rules/enforce-https-only";
import { enforceModernTls } from "./rules/enforce-modern-tls";
import { enforceServerlessBackendLimits } from "./rules/enforce-serverless-backend-limits";
import { enforceSessionAffinity } from "./rules/enforce-session-affinity";
import { enforceUniqueNamedPorts } from "./rules/enforce-unique-named-ports";
import { enforceWebsocketBackendProtocol } from "./rules/enforce-websocket-backend-protocol";
import { enforceWebsocketLifetime } from "./rules/enforce-websocket-lifetime";
import { enforceWebsocketOriginCheck } from "./rules/enforce-websocket-origin-check";
import { enforceWebsocketPaths } from "./rules/enforce-websocket-paths";
import { enforceWebsocketScaleIn } from "./rules/enforce-websocket-scale-in";

/** Every policy of the pack, mandatory ones first. Tests import this; only index.ts serves it. */
export const policies: Policies = [
    enforceBackendTimeout,
    enforceSessionAffinity,
    disallowInvalidCustomHeaders,
    disallowInvalidHeaderActions,
    enforceServerlessBackendLimits,
    enforceWebsocketLifetime,
    enforceWebsocketPaths,
    enforceWebsocketBackendProtocol,
    disallowClassicAdvancedRouting,
    enforceHttpsOnly,
    enforceUniqueNamedPorts,
    enforceHealthCheckFirewall,
    disallowRetiredFunctionRuntime,
    disallowExcessiveTimeout,
    enforceConnectionDraining,
    disallowAffinityWithUtilization,
    enforceAffinityLocalityPolicy,
    enforceBackendLogging,
    enforceModernTls,
    disallowLongHttpRoutes,
    disallowDuplicateProxyHeaders,
    disallowWebsocketRateBalancing,
    enforceHealthCheckLogging,
    disallowHttp2BackendProtocol,
    enforceWebsocketScaleIn,
    enforceCloudArmor,
    enforceWebsocketOriginCheck,
];
