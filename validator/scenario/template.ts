import { randomUUID } from "crypto";

/** `{{name}}` in a string: uuid, now, sent.FIELD or a captured variable. */
export const TEMPLATE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

/** Variables captured by earlier steps of a run. */
export type Vars = Map<string, unknown>;

/** A dot path (`data.items.0.id`) into a JSON value. */
export function fieldAt(value: unknown, path: string): unknown {
    let current = value;
    for (const part of path.split(".")) {
        if (typeof current !== "object" || current === null) {
            return undefined;
        }
        current = (current as Record<string, unknown>)[part];
    }
    return current;
}

function lookup(name: string, vars: Vars, sent: unknown): unknown {
    if (name === "uuid") {
        return randomUUID();
    }
    if (name === "now") {
        return Date.now();
    }
    return name.startsWith("sent.") ? fieldAt(sent, name.slice(5)) : vars.get(name);
}

/** Fills `{{...}}` in strings; a string that is one template keeps the value's type (a number stays one). */
export function render(value: unknown, vars: Vars, sent: unknown): unknown {
    if (typeof value === "string") {
        const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}$/.exec(value);
        if (whole) {
            return lookup(whole[1], vars, sent);
        }
        return value.replace(TEMPLATE, (_, name: string) => {
            const found = lookup(name, vars, sent);
            return typeof found === "string" ? found : JSON.stringify(found);
        });
    }
    if (Array.isArray(value)) {
        return value.map((v) => render(v, vars, sent));
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, vars, sent)]));
    }
    return value;
}

/** Every string inside a value, for template checks. */
export function stringsIn(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (Array.isArray(value)) {
        return value.flatMap(stringsIn);
    }
    if (typeof value === "object" && value !== null) {
        return Object.values(value).flatMap(stringsIn);
    }
    return [];
}
