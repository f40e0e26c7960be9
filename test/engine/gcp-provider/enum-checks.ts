import { EnumFact, protoFacts } from "./google-protos";
import { ENUM_FIELDS } from "./proto-map";

type Props = Record<string, unknown>;

/** One refusal: the API's complaint, and where the rule comes from (a proto file or a doc URL). */
export interface Problem {
    readonly message: string;
    readonly source: string;
}

/** Every value at a mapped path (`a.b[].c`), with its concrete path (`a.b[2].c`). */
export function valuesAt(props: unknown, path: string): Array<{ at: string; value: unknown }> {
    let found: Array<{ at: string; value: unknown }> = [{ at: "", value: props }];
    for (const step of path.split(".")) {
        const list = step.endsWith("[]");
        const key = list ? step.slice(0, -2) : step;
        found = found.flatMap(({ at, value }) => {
            const next =
                typeof value === "object" && value !== null && !Array.isArray(value)
                    ? (value as Props)[key]
                    : undefined;
            const here = at ? `${at}.${key}` : key;
            if (!list) {
                return next === undefined || next === null ? [] : [{ at: here, value: next }];
            }
            return Array.isArray(next) ? next.map((v, i) => ({ at: `${here}[${i}]`, value: v as unknown })) : [];
        });
    }
    return found;
}

const HTTP_PROTOCOLS = ["HTTP", "HTTPS", "HTTP2", "H2C"];

/**
 * What kind of load balancing a resource takes part in, in the words the enum comments use. Only
 * backend services carry such restrictions among the fields mapped; their protocol (default HTTP,
 * compute.proto BackendService.protocol) and scheme decide.
 */
function contextOf(type: string, props: Props): string[] {
    if (type !== "gcp:compute/backendService:BackendService") {
        return [];
    }
    const protocol = typeof props.protocol === "string" ? props.protocol : "HTTP";
    const kinds: string[] = [];
    if (HTTP_PROTOCOLS.includes(protocol) && props.loadBalancingScheme !== "INTERNAL") {
        kinds.push("HTTP(S) load balancing");
    }
    if (props.loadBalancingScheme === "INTERNAL") {
        kinds.push("Internal TCP/UDP Load Balancing");
    }
    return kinds;
}

/** Folds a proto comment's line breaks, so "HTTP(S)\nload balancing" matches "HTTP(S) load balancing". */
const fold = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * A value's own comment read as a rule: "This option cannot be used for X", "can only be used for
 * X", "Only valid for X", "Not supported." The whole comment is the error text.
 */
function commentRestriction(comment: string, context: string[]): boolean {
    const text = fold(comment);
    if (/^Not supported\.?$/.test(text)) {
        return true;
    }
    const never = /cannot be used for ([^.]+)\./.exec(text)?.[1];
    if (never && context.includes(never)) {
        return true;
    }
    const only = /(?:can only be used for|Only valid for) ([^.]+)\./i.exec(text)?.[1];
    return only !== undefined && context.length > 0 && !context.includes(only);
}

function checkValue(fact: EnumFact, field: string, at: string, value: unknown, context: string[]): Problem[] {
    const source = `${fact.source} (${fact.enumName})`;
    const names = Object.keys(fact.values);
    if (typeof value !== "string" || !(value in fact.values)) {
        return [
            {
                message: `Invalid value for field '${at}': ${JSON.stringify(value)}. Must be one of ${fact.enumName}: ${names.filter((n) => !/^UNDEFINED_|_UNSPECIFIED$/.test(n)).join(", ")}.`,
                source,
            },
        ];
    }
    if (/^UNDEFINED_|_UNSPECIFIED$/.test(value)) {
        return [{ message: `Invalid value for field '${at}': '${value}'. ${fold(fact.values[value])}`, source }];
    }
    const comment = fact.values[value];
    return commentRestriction(comment, context)
        ? [{ message: `Invalid value for field '${at}' (${field}): '${value}'. ${fold(comment)}`, source }]
        : [];
}

/** Every mapped enum value of a resource checked against its proto enum and its values' comments. */
export function enumProblems(type: string, props: Props): Problem[] {
    const mapped = ENUM_FIELDS.filter((m) => m.type === type);
    if (mapped.length === 0) {
        return [];
    }
    const facts = protoFacts();
    const context = contextOf(type, props);
    return mapped.flatMap((m) => {
        const fact = facts.enums[`${m.message}.${m.field}`];
        return valuesAt(props, m.path).flatMap(({ at, value }) => checkValue(fact, m.field, at, value, context));
    });
}
