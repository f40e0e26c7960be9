import { shortType } from "./types";

export interface Finding {
    /** The property path, as a user writes it in their program. */
    readonly property: string;
    /** What the resource has, including "unset" and what unset means. */
    readonly found: string;
    /** What the rule requires. */
    readonly required: string;
    /** What to change. */
    readonly fix: string;
    /** The GCP reason, one clause. */
    readonly why: string;
}

export function subject(type: string, name: string): string {
    return `${shortType(type)} "${name}"`;
}

/** One violation message: resource, property, value found, value required, fix, and why. */
export function explain(type: string, name: string, finding: Finding): string {
    return `${subject(type, name)}: ${finding.property} is ${finding.found}; required: ${finding.required}. Fix: ${finding.fix}, because ${finding.why}.`;
}

export function show(value: unknown): string {
    return value === undefined ? "unset" : JSON.stringify(value);
}
