import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { referencedBy } from "../lib/backends";
import { schemaFor, settingsFrom } from "../lib/config";
import { ORIGIN_HEADER_EXPRESSION } from "../lib/gcp-facts";
import { lastSegment, list, peek, record } from "../lib/props";
import { explain, show, subject } from "../lib/report";
import { T } from "../lib/types";
import { routingMaps, websocketRoutes } from "../lib/urlmaps";

type Props = Record<string, unknown>;

/** Every string a rule compares the Origin header with, as in `request.headers['origin'].matches('...')`. */
function originPatterns(expression: string): string[] {
    const reads =
        /request\.headers\['origin'\]\s*(?:\.\s*(?:matches|contains|startsWith|endsWith)\s*\(|==|!=)\s*'([^']*)'/g;
    return [...expression.matchAll(reads)].map((m) => m[1]);
}

function expressionOf(rule: Props): string {
    const expression = record(record(rule.match)?.expr)?.expression;
    return typeof expression === "string" ? expression : "";
}

/** The security policy a backend service carries, when it is one of the stack's. */
function policyOf(backend: PolicyResource, stack: PolicyResource[]): PolicyResource | undefined {
    const linked = referencedBy(backend, "securityPolicy").find((r) => r.type === T.securityPolicy);
    if (linked) {
        return linked;
    }
    const reference = peek<unknown>(() => backend.props.securityPolicy);
    if (typeof reference !== "string") {
        return undefined;
    }
    const name = lastSegment(reference);
    return stack.find(
        (r) => r.type === T.securityPolicy && (peek<unknown>(() => r.props.name) === name || r.name === name),
    );
}

interface Finding {
    property: string;
    found: string;
    required: string;
    fix: string;
    why: string;
}

/** What is wrong with a WebSocket backend's policy: preview rules, no Origin rule, or a wildcard one. */
function findings(policy: PolicyResource): Finding[] {
    const rules = list(peek<unknown>(() => policy.props.rules));
    const found: Finding[] = [];
    rules.forEach((rule, i) => {
        if (rule.preview === true) {
            found.push({
                property: `rules[${i}].preview`,
                found: `true on "${String(rule.action)}" (priority ${show(rule.priority)})`,
                required: "false, once its logged matches look right",
                fix: "set preview: false (cloudArmor.preview in config)",
                why: "a rule in preview mode only logs what it would do and enforces nothing",
            });
        }
    });
    const originRules = rules
        .map((rule, i) => ({ rule, i, patterns: originPatterns(expressionOf(rule)) }))
        .filter((r) => expressionOf(r.rule).includes(ORIGIN_HEADER_EXPRESSION));
    const wildcard = originRules.find((r) => r.patterns.some((p) => p.includes("*")));
    if (originRules.length === 0) {
        found.push({
            property: "rules",
            found: `${rules.length} rules, none reading ${ORIGIN_HEADER_EXPRESSION}`,
            required: `a deny rule on the WebSocket paths for an ${ORIGIN_HEADER_EXPRESSION} outside the allowed origins`,
            fix: "set cloudArmor.allowedOrigins in config, or add a deny(403) rule on the Origin header",
            why: "a browser sends the page's Origin on every upgrade, with the user's cookies, and only the server side can refuse a foreign one (Cross-Site WebSocket Hijacking)",
        });
    } else if (wildcard) {
        found.push({
            property: `rules[${wildcard.i}].match.expr.expression`,
            found: `an Origin allowlist with a wildcard (${wildcard.patterns.map((p) => JSON.stringify(p)).join(", ")})`,
            required: "exact origins, such as ^(https://chat\\.example\\.com)$",
            fix: "list each origin the chat is served from in cloudArmor.allowedOrigins",
            why: "a wildcard lets a page on any site open sockets with its visitors' cookies",
        });
    }
    return found;
}

export const enforceWebsocketOriginCheck: StackValidationPolicy = {
    name: "enforce-websocket-origin-check",
    description:
        "The security policy of a backend that serves WebSocket paths should refuse upgrades from foreign origins with an exact allowlist, and none of its rules should be left in preview mode, where they enforce nothing.",
    enforcementLevel: "advisory",
    severity: "high",
    remediationSteps:
        "Set cloudArmor.allowedOrigins to the exact origins the chat is served from and cloudArmor.preview to false; the program writes a deny(403) rule on request.headers['origin'] for the WebSocket paths.",
    configSchema: schemaFor("websocketPaths"),
    validateStack: (args, report) => {
        const { websocketPaths } = settingsFrom(() => args.getConfig<Record<string, unknown>>(), "websocketPaths");
        const judged = new Set<PolicyResource>();
        for (const map of routingMaps(args)) {
            for (const { known } of websocketRoutes(map, websocketPaths)) {
                const policy = known ? policyOf(known, args.resources) : undefined;
                // No policy at all is enforce-cloud-armor's finding; one outside the stack cannot be read.
                if (!known || !policy || judged.has(policy)) {
                    continue;
                }
                judged.add(policy);
                for (const finding of findings(policy)) {
                    report(
                        explain(policy.type, policy.name, {
                            ...finding,
                            found: `${finding.found}, on the policy of ${subject(known.type, known.name)}, which serves WebSocket paths`,
                        }),
                        policy.urn,
                    );
                }
            }
        }
    },
};
