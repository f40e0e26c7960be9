export { WebSocketLoadBalancer } from "./load-balancer";
export { parseSettings, readSettings } from "./config";
export { BackendConfig, BackendSettings, CONFIG_KEYS, ConfigError, LoadBalancerSettings } from "./settings";
