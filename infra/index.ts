export { WebSocketLoadBalancer } from "./load-balancer";
export { ConfigError, parseSettings, readSettings } from "./config";
export { BackendConfig, BackendSettings, CONFIG_KEYS, LoadBalancerSettings } from "./settings";
export type {
    BackendArgs,
    RequestHeaderArgs,
    SecretRefArgs,
    SyntheticMonitorArgs,
    WebSocketLoadBalancerArgs,
} from "./settings";
export { BackendKind, Egress, LoadBalancingSchemeArg, SessionAffinity } from "./settings";
