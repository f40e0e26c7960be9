import { StackValidationPolicy } from "@pulumi/policy";
import { referencedBy } from "../lib/backends";
import { isSet } from "../lib/props";
import { explain, show, subject } from "../lib/report";
import { HTTPS_PROXY_TYPES, SSL_POLICY_TYPES } from "../lib/types";

const MODERN = ["TLS_1_2", "TLS_1_3"];

export const enforceModernTls: StackValidationPolicy = {
    name: "enforce-modern-tls",
    description:
        "HTTPS proxies should use an SSL policy with TLS 1.2 or later, because the default policy still accepts TLS 1.0.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps: "Attach an SSL policy with minTlsVersion TLS_1_2 and profile MODERN to every target HTTPS proxy.",
    validateStack: (args, report) => {
        const proxies = args.resources.filter((r) => HTTPS_PROXY_TYPES.includes(r.type));
        const policies = args.resources.filter((r) => SSL_POLICY_TYPES.includes(r.type));
        if (proxies.length === 0 && policies.length === 0) {
            args.notApplicable("no HTTPS proxy or SSL policy in the stack");
        }
        const why = "TLS 1.0 and 1.1 are broken and deprecated, and the default SSL policy still accepts them";
        for (const proxy of proxies.filter((p) => !isSet(p.props, "sslPolicy") && !isSet(p.props, "serverTlsPolicy"))) {
            report(
                explain(proxy.type, proxy.name, {
                    property: "sslPolicy",
                    found: "unset (Google's default policy, TLS 1.0 and up)",
                    required: "an SSL policy with minTlsVersion TLS_1_2 or later",
                    fix: 'attach an SSLPolicy { minTlsVersion: "TLS_1_2", profile: "MODERN" }',
                    why,
                }),
                proxy.urn,
            );
        }
        for (const policy of policies) {
            const version: unknown = policy.props.minTlsVersion;
            if (typeof version !== "string" || !MODERN.includes(version)) {
                const users = proxies
                    .filter((p) => referencedBy(p, "sslPolicy").includes(policy))
                    .map((p) => subject(p.type, p.name));
                report(
                    explain(policy.type, policy.name, {
                        property: "minTlsVersion",
                        found: `${version === undefined ? "unset (TLS_1_0)" : show(version)}${users.length ? `, used by ${users.join(", ")}` : ""}`,
                        required: "TLS_1_2 or TLS_1_3",
                        fix: 'set minTlsVersion: "TLS_1_2"',
                        why,
                    }),
                    policy.urn,
                );
            }
        }
    },
};
