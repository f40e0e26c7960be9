import { ResourceValidationPolicy } from "@pulumi/policy";
import { headerNameProblem } from "../lib/gcp-facts";
import { JUDGES, requireApplication } from "../lib/lb-kind";
import { forTypes } from "../lib/policy";
import { explain } from "../lib/report";
import { BACKEND_SERVICE_TYPES, T } from "../lib/types";

const ENTRY = /^([^:\s]+):[ \t]*(.*)$/;
const HEADER_LISTS = ["customRequestHeaders", "customResponseHeaders"] as const;

export const disallowInvalidCustomHeaders: ResourceValidationPolicy = {
    name: "disallow-invalid-custom-headers",
    description: `Custom request and response headers of backend buckets and ${JUDGES.application} must be well-formed, unique and not hop-by-hop or reserved, or the API rejects the backend.`,
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps:
        "Remove Connection and Upgrade headers (the load balancer proxies WebSocket upgrades natively) and any reserved or duplicate names.",
    validateResource: forTypes([...BACKEND_SERVICE_TYPES, T.backendBucket], (args, report) => {
        requireApplication(args, "custom HTTP headers");
        for (const property of HEADER_LISTS) {
            const entries: unknown = args.props[property];
            if (!Array.isArray(entries)) {
                continue;
            }
            const seen = new Set<string>();
            entries.forEach((entry: unknown, i: number) => {
                const at = `${property}[${i}]`;
                const match = typeof entry === "string" ? ENTRY.exec(entry) : null;
                if (!match) {
                    report(
                        explain(args.type, args.name, {
                            property: at,
                            found: JSON.stringify(entry),
                            required: 'an entry of the form "Name: value"',
                            fix: 'write the header as "Name: value"',
                            why: "the API parses each entry as a header name, a colon and a value",
                        }),
                    );
                    return;
                }
                const name = match[1];
                const problem = headerNameProblem(name);
                if (problem) {
                    report(
                        explain(args.type, args.name, {
                            property: at,
                            found: JSON.stringify(entry),
                            required: "a header name that is not hop-by-hop or reserved",
                            fix: `remove the ${name} header`,
                            why: `header ${name} ${problem}`,
                        }),
                    );
                }
                if (seen.has(name.toLowerCase())) {
                    report(
                        explain(args.type, args.name, {
                            property: at,
                            found: JSON.stringify(entry),
                            required: `each header name once per ${property}`,
                            fix: `keep one ${name} entry`,
                            why: "the API rejects duplicate header names",
                        }),
                    );
                }
                seen.add(name.toLowerCase());
            });
        }
    }),
};
