export { WebSocketLoadBalancer } from "./loadBalancer";
export { ConfigError, LoadBalancerSettings, parseSettings, readSettings } from "./config";
