export { WebSocketLoadBalancer } from "./load-balancer";
export { ConfigError, parseSettings, readSettings } from "./config";
export { BackendConfig, BackendSettings, CONFIG_KEYS, LoadBalancerSettings } from "./settings";
