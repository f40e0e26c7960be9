import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import type * as gcpInputs from "@pulumi/gcp/types/input";
import { BACKEND_SECURITY_POLICY_TYPE, DEFAULT_RULE_PRIORITY } from "../policies/facts";
import { CloudArmorSettings, LoadBalancerSettings } from "./settings";

// The Cloud Armor policy in front of every backend service. Cloud Armor judges the HTTP request
// only, so for a WebSocket it sees the upgrade and nothing after the 101 (inferred; see
// policies/lib/gcp-facts.ts): the defences here are all about handshakes.

type Rule = gcpInputs.compute.SecurityPolicyRule;

/** Rule priorities: lower runs first, and the first rule that matches decides. */
const PRIORITY = { origin: 1000, rateLimit: 2000, waf: 3000 } as const;

/** The status an upgrade from a foreign Origin gets. */
const ORIGIN_DENY_STATUS = 403;

/** A regular expression (RE2, PCRE alike) matching a literal text. */
function literal(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);
}

/** A single-quoted CEL string holding `text`: CEL reads a backslash as an escape, so each is doubled. */
function celString(text: string): string {
    return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * A regular expression matching the URL-map path patterns as the URL map does: `/x` exactly,
 * `/x/*` as the prefix `/x/`; for `request.path.matches(...)` and for the nginx front's location.
 */
export function pathsRegex(patterns: readonly string[]): string {
    const alternatives = patterns.map((p) => (p.endsWith("/*") ? `${literal(p.slice(0, -1))}.*` : literal(p)));
    return `^(${alternatives.join("|")})$`;
}

/** A regular expression matching exactly the allowed origins (browsers send them without a path). */
export function originsRegex(origins: readonly string[]): string {
    return `^(${origins.map(literal).join("|")})$`;
}

function expression(text: string): Rule["match"] {
    return { expr: { expression: text } };
}

/**
 * The policy's rules, from the settings alone: what the stack deploys, and what the validator's
 * local nginx front is generated from (test/validator/nginx-front.ts), so the two cannot drift.
 */
function securityRules(armor: CloudArmorSettings, websocketPaths: readonly string[]): Rule[] {
    const onWebsocketPaths = `request.path.matches(${celString(pathsRegex(websocketPaths))})`;
    const origin = "request.headers['origin']";
    // has() is CEL's presence test; that the rules language keeps it is inferred (it is a CEL subset).
    const foreignOrigin = [
        onWebsocketPaths,
        ...(armor.allowMissingOrigin ? [`has(${origin})`] : []),
        `!${origin}.matches(${celString(originsRegex(armor.allowedOrigins))})`,
    ].join(" && ");
    const limit = armor.handshakeRateLimit;
    const rules: Rule[] = [
        {
            priority: PRIORITY.origin,
            description: "WebSocket upgrades from a foreign Origin (CSWSH)",
            action: `deny(${ORIGIN_DENY_STATUS})`,
            match: expression(foreignOrigin),
        },
        {
            priority: PRIORITY.rateLimit,
            description: "WebSocket handshakes per client IP",
            action: limit.action,
            match: expression(onWebsocketPaths),
            rateLimitOptions: {
                conformAction: "allow",
                exceedAction: `deny(${limit.exceedStatus})`,
                enforceOnKey: "IP",
                rateLimitThreshold: { count: limit.count, intervalSec: limit.intervalSec },
                banDurationSec: limit.action === "rate_based_ban" ? limit.banDurationSec : undefined,
            },
        },
        ...armor.wafRules.map((set, i): Rule => ({
            priority: PRIORITY.waf + i,
            description: `${set} on plain HTTP paths`,
            action: "deny(403)",
            // Not on the WebSocket paths: there Cloud Armor would judge the upgrade only.
            match: expression(`evaluatePreconfiguredWaf('${set}') && !${onWebsocketPaths}`),
        })),
    ];
    return [
        ...rules.map((rule) => ({ ...rule, preview: armor.preview || undefined })),
        {
            priority: DEFAULT_RULE_PRIORITY,
            description: "default rule",
            action: "allow",
            match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
        },
    ];
}

/** The stack's security policy, or none when cloudArmor.enabled is false. */
export function createSecurityPolicy(
    name: string,
    settings: LoadBalancerSettings,
    parent: pulumi.Resource,
): compute.SecurityPolicy | undefined {
    const armor = settings.cloudArmor;
    if (!armor.enabled) {
        return undefined;
    }
    return new compute.SecurityPolicy(
        `${name}-armor`,
        {
            description: "Handshake rate limit and Origin allowlist on the WebSocket paths; WAF on the others",
            type: BACKEND_SECURITY_POLICY_TYPE,
            rules: securityRules(armor, settings.websocketPaths),
            adaptiveProtectionConfig: armor.adaptiveProtection
                ? { layer7DdosDefenseConfig: { enable: true } }
                : undefined,
        },
        { parent },
    );
}
