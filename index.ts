import { readSettings, WebSocketLoadBalancer } from "./infra";

// Settings are read and validated before any resource exists: a bad value stops here.
const settings = readSettings();

const lb = WebSocketLoadBalancer.fromSettings("chat", settings);

export const ipAddress = lb.ipAddress;
export const websocketUrls = lb.websocketUrls;
export const backendServiceNames = lb.backendServiceNames;
export const urlMapName = lb.urlMapName;
export const cloudRunRevisions = lb.cloudRunRevisions;
/** The deploy pipeline reads this rule's request_count (5xx rate) from Cloud Monitoring. */
export const httpsForwardingRuleName = lb.httpsForwardingRuleName;
/**
 * npm run load reads the load job, its region and its bucket from here; null without loadTest
 * (an undefined output makes every `pulumi up` warn that it will not show).
 */
export const loadTest = lb.loadTest?.outputs ?? null;
