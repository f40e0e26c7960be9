import {
    PRECONFIGURED_WAF_RULES,
    RATE_LIMIT_ACTIONS,
    RATE_LIMIT_EXCEED_STATUSES,
    RATE_LIMIT_INTERVALS_SEC,
    RATE_LIMIT_MAX_COUNT,
} from "../policies/facts";
import { didYouMean } from "../cli/suggest";
import { isRecord, Validator } from "./config-checks";
import { CloudArmorSettings, HandshakeRateLimit } from "./settings";

// `cloudArmor`: the security policy's settings. Every bound is Google's (policies/lib/gcp-facts.ts)
// or, for what Google leaves open, one a chat product keeps to.

const KEYS = [
    "enabled",
    "allowedOrigins",
    "allowMissingOrigin",
    "handshakeRateLimit",
    "wafRules",
    "preview",
    "adaptiveProtection",
];
const LIMIT_KEYS = ["count", "intervalSec", "action", "banDurationSec", "exceedStatus"];

/** What a browser sends as Origin: scheme, host and an optional port, nothing after. */
const ORIGIN = /^https?:\/\/[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** Handshakes per client IP a minute that a chat client reconnecting on every network change stays under. */
const HANDSHAKE_RATE_LIMIT_DEFAULTS: HandshakeRateLimit = {
    count: 120,
    intervalSec: 60,
    action: "throttle",
    banDurationSec: 600,
    exceedStatus: 429,
};
const DEFAULT_WAF_RULES = ["sqli-v33-stable", "xss-v33-stable"];
/** A ban longer than a day locks out a whole office behind one NAT address for too long (our bound). */
const MAX_BAN_DURATION_SEC = 86_400;

function unknownKeys(v: Validator, key: string, spec: Record<string, unknown>, allowed: readonly string[]): void {
    for (const unknown of Object.keys(spec).filter((k) => !allowed.includes(k))) {
        v.problems.push(
            `${key}.${unknown} is not a setting${didYouMean(unknown, allowed)} (settings: ${allowed.join(", ")})`,
        );
    }
}

function parseOrigins(v: Validator, key: string, value: unknown, domains: readonly string[]): string[] {
    if (value === undefined) {
        return domains.map((d) => `https://${d}`);
    }
    const origins = v.stringList(key, value, false);
    for (const origin of origins) {
        if (origin.includes("*")) {
            v.fail(
                key,
                origin,
                "a wildcard lets any site open sockets with its users' cookies (Cross-Site WebSocket Hijacking); allowed: exact origins such as https://chat.example.com",
            );
        } else if (!ORIGIN.test(origin)) {
            v.fail(key, origin, "allowed: an origin as browsers send it, scheme://host[:port] in lower case, no path");
        }
    }
    return origins;
}

function parseRateLimit(v: Validator, key: string, value: unknown): HandshakeRateLimit {
    const spec = value ?? {};
    if (!isRecord(spec)) {
        v.fail(key, value, `allowed: {${LIMIT_KEYS.join(", ")}}`);
        return HANDSHAKE_RATE_LIMIT_DEFAULTS;
    }
    unknownKeys(v, key, spec, LIMIT_KEYS);
    const d = HANDSHAKE_RATE_LIMIT_DEFAULTS;
    const action = v.oneOf(`${key}.action`, spec.action ?? d.action, RATE_LIMIT_ACTIONS);
    const intervalSec = spec.intervalSec ?? d.intervalSec;
    if (typeof intervalSec !== "number" || !RATE_LIMIT_INTERVALS_SEC.includes(intervalSec)) {
        v.fail(
            `${key}.intervalSec`,
            intervalSec,
            `allowed: ${RATE_LIMIT_INTERVALS_SEC.join(", ")} (Cloud Armor's intervals)`,
        );
    }
    const exceedStatus = spec.exceedStatus ?? d.exceedStatus;
    if (typeof exceedStatus !== "number" || !RATE_LIMIT_EXCEED_STATUSES.includes(exceedStatus)) {
        v.fail(
            `${key}.exceedStatus`,
            exceedStatus,
            `allowed: ${RATE_LIMIT_EXCEED_STATUSES.join(", ")} (429 is the one clients retry on)`,
        );
    }
    return {
        count: v.integer(
            `${key}.count`,
            spec.count ?? d.count,
            1,
            RATE_LIMIT_MAX_COUNT[action],
            ` (Cloud Armor's bound for ${action})`,
        ),
        intervalSec: intervalSec as number,
        action,
        banDurationSec: v.integer(
            `${key}.banDurationSec`,
            spec.banDurationSec ?? d.banDurationSec,
            1,
            MAX_BAN_DURATION_SEC,
        ),
        exceedStatus: exceedStatus as number,
    };
}

function parseWafRules(v: Validator, key: string, value: unknown): string[] {
    const rules = v.stringList(key, value ?? DEFAULT_WAF_RULES, true);
    for (const rule of rules) {
        if (!PRECONFIGURED_WAF_RULES.includes(rule)) {
            v.fail(key, rule, `allowed: Cloud Armor's preconfigured rule sets, ${PRECONFIGURED_WAF_RULES.join(", ")}`);
        }
    }
    return rules;
}

/** `cloudArmor`: unset or {} keeps every default; false turns the policy off. */
export function parseCloudArmor(v: Validator, value: unknown, domains: readonly string[]): CloudArmorSettings {
    const key = v.key("cloudArmor");
    const spec = value === undefined || typeof value === "boolean" ? { enabled: value ?? true } : value;
    if (!isRecord(spec)) {
        v.fail(key, value, `allowed: true, false or {${KEYS.join(", ")}}`);
        return parseCloudArmor(v, true, domains);
    }
    unknownKeys(v, key, spec, KEYS);
    return {
        enabled: v.flag(`${key}.enabled`, spec.enabled ?? true),
        allowedOrigins: parseOrigins(v, `${key}.allowedOrigins`, spec.allowedOrigins, domains),
        allowMissingOrigin: v.flag(`${key}.allowMissingOrigin`, spec.allowMissingOrigin ?? true),
        handshakeRateLimit: parseRateLimit(v, `${key}.handshakeRateLimit`, spec.handshakeRateLimit),
        wafRules: parseWafRules(v, `${key}.wafRules`, spec.wafRules),
        preview: v.flag(`${key}.preview`, spec.preview ?? false),
        adaptiveProtection: v.flag(`${key}.adaptiveProtection`, spec.adaptiveProtection ?? false),
    };
}
