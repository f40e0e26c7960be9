import { Diagnostic } from "./analyzer";
import type { RecordedResource } from "./program";

type Props = Record<string, unknown>;

/** A setting as shown: a primitive as it is; a structure as JSON rather than "[object Object]". */
function shown(value: unknown): string {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

function backendServiceSettings(p: Props): string {
    if (p.timeoutSec === undefined && p.healthChecks === undefined) {
        return `serverless backend, scheme ${shown(p.loadBalancingScheme ?? "EXTERNAL")}`;
    }
    const ttl = p.affinityCookieTtlSec === undefined ? "" : `, ttl ${shown(p.affinityCookieTtlSec)}s`;
    return `timeout ${shown(p.timeoutSec ?? "30 (default)")}s, affinity ${shown(p.sessionAffinity ?? "NONE")}${ttl}, draining ${shown(p.connectionDrainingTimeoutSec ?? 300)}s, scheme ${shown(p.loadBalancingScheme ?? "EXTERNAL")}`;
}

function urlMapSettings(p: Props): string {
    const redirect = p.defaultUrlRedirect as Props | undefined;
    if (redirect && !p.pathMatchers) {
        return redirect.httpsRedirect ? "redirects everything to HTTPS" : "redirects";
    }
    const rules = ((p.pathMatchers as Props[] | undefined) ?? []).flatMap(
        (m) => (m.pathRules as Props[] | undefined) ?? [],
    );
    return rules
        .map((rule) => {
            const timeout = (rule.routeAction as Props | undefined)?.timeout as Props | undefined;
            return `${(rule.paths as string[]).join(",")}${timeout ? ` (route timeout ${shown(timeout.seconds)}s)` : ""}`;
        })
        .join("; ");
}

function serviceSettings(p: Props): string {
    const template = p.template as Props | undefined;
    return template
        ? `request timeout ${shown(template.timeout ?? "300s")}, session affinity ${template.sessionAffinity ? "on" : "off"}`
        : "";
}

function forwardingRuleSettings(p: Props): string {
    return `port ${shown(p.portRange)}, scheme ${shown(p.loadBalancingScheme ?? "EXTERNAL")}`;
}

function sslPolicySettings(p: Props): string {
    return `min ${shown(p.minTlsVersion ?? "TLS_1_0")}, ${shown(p.profile ?? "COMPATIBLE")}`;
}

/** The resource types whose settings matter to WebSockets, by the last part of the type token. */
const SETTINGS = new Map<string, (p: Props) => string>([
    ["BackendService", backendServiceSettings],
    ["RegionBackendService", backendServiceSettings],
    ["URLMap", urlMapSettings],
    ["RegionUrlMap", urlMapSettings],
    ["Service", serviceSettings],
    ["GlobalForwardingRule", forwardingRuleSettings],
    ["ForwardingRule", forwardingRuleSettings],
    ["SSLPolicy", sslPolicySettings],
]);

/** One line of the WebSocket-relevant settings of a resource, or "" when it has none. */
export function settingsOf(r: RecordedResource): string {
    const describe = SETTINGS.get(r.type.split(":").pop() ?? "");
    return describe ? describe(r.inputs) : "";
}

export interface Summary {
    readonly resources: number;
    readonly mandatory: number;
    readonly advisory: number;
}

export function summarize(resources: readonly RecordedResource[], diagnostics: readonly Diagnostic[]): Summary {
    return {
        resources: resources.length,
        mandatory: diagnostics.filter((d) => d.level === "mandatory").length,
        advisory: diagnostics.filter((d) => d.level === "advisory").length,
    };
}

export function summaryLine(s: Summary): string {
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
    return `${plural(s.resources, "resource")}, ${plural(s.mandatory, "mandatory violation")}, ${plural(s.advisory, "advisory")}`.replace(
        "advisorys",
        "advisories",
    );
}

/** The preview as people read it: the resource tree, diagnostics by level, one summary line. */
export function renderHuman(resources: readonly RecordedResource[], diagnostics: readonly Diagnostic[]): string {
    const lines: string[] = [];
    const children = new Map<string | undefined, RecordedResource[]>();
    for (const r of resources) {
        const parent = r.parent && resources.some((p) => p.urn === r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const width = Math.max(...resources.map((r) => r.type.length)) + 2;
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            const label = `${"   ".repeat(depth)}+ ${r.type}`.padEnd(width + 3 * depth + 2);
            const settings = settingsOf(r);
            lines.push(`    ${label} ${r.name}${settings ? `  [${settings}]` : ""}`);
            walk(r.urn, depth + 1);
        }
    };
    lines.push("Resources (offline preview):");
    walk(undefined, 0);
    lines.push("");

    const nameOf = (urn: string) => resources.find((r) => r.urn === urn);
    for (const level of ["mandatory", "advisory"] as const) {
        const group = diagnostics.filter((d) => d.level === level);
        if (group.length === 0) {
            continue;
        }
        lines.push(`Policy ${level === "mandatory" ? "violations (mandatory)" : "advisories"}: ${group.length}`);
        for (const d of group) {
            const r = nameOf(d.urn);
            lines.push(
                `    [${level}] ${d.policy}  ${r ? `${r.type.split(":").pop()} ${r.name}` : d.urn || "(stack)"}`,
            );
            // The SDK prefixes the policy's description on a line of its own.
            for (const line of d.message.split("\n")) {
                lines.push(`        ${line}`);
            }
        }
        lines.push("");
    }
    return lines.join("\n");
}

/** The stack's outputs as `pulumi preview` lists them: name, then the value (JSON for structures). */
export function renderOutputs(outputs: Record<string, unknown>): string {
    const names = Object.keys(outputs);
    if (names.length === 0) {
        return "Outputs: none";
    }
    const width = Math.max(...names.map((n) => n.length));
    const lines = ["Outputs (mock values offline; the real ones are known after pulumi up):"];
    for (const name of names) {
        const value = JSON.stringify(outputs[name], null, 4) ?? "undefined";
        lines.push(`    ${name.padEnd(width)}: ${value.split("\n").join("\n    ")}`);
    }
    return lines.join("\n");
}
