// The component package's entry: what it exports is what it serves. Pulumi's schema inference
// reads this file (the TypeScript beside package.json's main) to describe the component.
export { WebSocketLoadBalancer } from "../infra/load-balancer";
