import type Ajv from "ajv";
import type { ErrorObject } from "ajv";
import * as fs from "fs";
import * as path from "path";
import type { Node } from "yaml";
import { UsageError } from "../../cli/kit";
import { MAX_WAIT_SEC } from "../core";

// A scenario file: named checks, each a list of steps on one connection, in the manner of k6 and
// Artillery scripts. The file is checked against the published JSON Schema on load, then for what
// a schema cannot say (regexes that compile, variables captured before use, a connection before
// any step that needs one). Every problem names the file and line.

export const SCHEMA_FILE = path.join(__dirname, "..", "scenarios", "scenario.schema.json");

/** A scenario file that cannot be used: one line naming the file, the line and the problem. */
export class ScenarioError extends UsageError {}

interface Located {
    /** 1-based line of the step in the scenario file, for failure reports. */
    readonly line: number;
}

export interface ConnectStep extends Located {
    readonly kind: "connect";
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly subprotocol?: string;
    readonly origin?: string;
    /** The HTTP status the upgrade must get: 101, or say 403 for a client without a token. */
    readonly status: number;
    readonly withinMs: number;
}
export interface SendStep extends Located {
    readonly kind: "send";
    readonly text?: string;
    readonly json?: unknown;
}
export interface ExpectStep extends Located {
    readonly kind: "expect";
    readonly json?: Readonly<Record<string, unknown>>;
    readonly match?: Readonly<Record<string, RegExp>>;
    readonly text?: string;
    readonly count: number;
    readonly none: boolean;
    readonly strict: boolean;
    readonly capture: Readonly<Record<string, string>>;
    readonly withinMs: number;
}
export interface SleepStep extends Located {
    readonly kind: "sleep";
    readonly ms: number;
}
export interface PingStep extends Located {
    readonly kind: "ping";
    readonly withinMs: number;
}
export interface CloseStep extends Located {
    readonly kind: "close";
    readonly code?: number;
    readonly reason?: string;
    readonly expect?: number;
    readonly withinMs: number;
}
export type Step = ConnectStep | SendStep | ExpectStep | SleepStep | PingStep | CloseStep;
export type StepKind = Step["kind"];

export interface Check {
    readonly name: string;
    readonly line: number;
    readonly repeat: number;
    readonly parallel: number;
    readonly steps: readonly Step[];
}

export interface Scenario {
    /** The file it came from, as given. */
    readonly file: string;
    readonly parallel: number;
    readonly checks: readonly Check[];
}

/** A step's deadline when the file gives none. */
export const DEFAULT_STEP_WITHIN_MS = 5000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

export function durationMs(text: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(text);
    if (!match) {
        throw new Error(`not a duration: ${text}`);
    }
    return Number(match[1]) * UNITS[match[2]];
}

/** `{{name}}` in a string: uuid, now, sent.FIELD or a captured variable. */
export const TEMPLATE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

type Raw = Record<string, unknown>;

let compiled: ReturnType<Ajv["compile"]> | undefined;
function schemaValidator(): ReturnType<Ajv["compile"]> {
    if (!compiled) {
        // Loaded on first use: the command line imports this room for its flags, and a run without
        // --scenario should not pay for the schema compiler and the YAML parser at start.
        const AjvClass = (require("ajv") as { default: typeof Ajv }).default;
        const ajv = new AjvClass({ allErrors: false, verbose: true, strict: true });
        compiled = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as object);
    }
    return compiled;
}

/** `checks[0].steps[2].expect` from an instance path. */
function where(segments: readonly (string | number)[]): string {
    return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("") || "(top level)";
}

function schemaProblem(error: ErrorObject): { segments: (string | number)[]; message: string } {
    const segments = error.instancePath
        .split("/")
        .slice(1)
        .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
        .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
    const parent = (error.parentSchema ?? {}) as { properties?: Record<string, unknown>; description?: string };
    const allowed = Object.keys(parent.properties ?? {}).join(", ");
    const described = parent.description ? ` (${parent.description})` : "";
    const value = JSON.stringify(error.data);
    switch (error.keyword) {
        case "additionalProperties": {
            const key = (error.params as { additionalProperty: string }).additionalProperty;
            return { segments: [...segments, key], message: `unknown key ${JSON.stringify(key)}; allowed: ${allowed}` };
        }
        case "required":
            return {
                segments,
                message: `missing key ${JSON.stringify((error.params as { missingProperty: string }).missingProperty)}`,
            };
        case "minProperties":
        case "maxProperties":
            return {
                segments,
                message: `${value}: expected ${parent.description ?? `at least ${(error.params as { limit: number }).limit} key(s)`}`,
            };
        case "propertyNames":
            return {
                segments,
                message: `bad key ${JSON.stringify((error.params as { propertyName: string }).propertyName)}${described}`,
            };
        default:
            return { segments, message: `${value}: ${error.message ?? "invalid"}${described}` };
    }
}

/** Parses and checks a scenario's text; `file` names it in errors; `env` fills `${VAR}` in headers. */
export function parseScenario(text: string, file: string, env: NodeJS.ProcessEnv): Scenario {
    const { isMap, isNode, LineCounter, parseDocument } = require("yaml") as typeof import("yaml");
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
    if (doc.errors.length > 0) {
        const e = doc.errors[0];
        throw new ScenarioError(`${file}:${lineOf(e.pos[0])}: not valid YAML or JSON: ${e.message.split("\n")[0]}`);
    }
    /** The line of the node at a path; for a key that is not there, its parent's line. */
    const lineAt = (segments: readonly (string | number)[]): number => {
        for (let n = segments.length; n >= 0; n--) {
            const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
            if (n < segments.length && isMap(node)) {
                // A key present in the map (such as an unknown one): point at the key itself.
                const pair = node.items.find(
                    (p) => isNode(p.key) && (p.key as Node & { value?: unknown }).value === segments[n],
                );
                if (pair && isNode(pair.key)) {
                    return lineOf(pair.key.range?.[0]);
                }
            }
            if (isNode(node)) {
                return lineOf(node.range?.[0]);
            }
        }
        return 1;
    };
    const fail = (segments: readonly (string | number)[], message: string): never => {
        throw new ScenarioError(`${file}:${lineAt(segments)}: ${where(segments)}: ${message}`);
    };

    const data: unknown = doc.toJS();
    const validateSchema = schemaValidator();
    if (!validateSchema(data)) {
        const { segments, message } = schemaProblem(validateSchema.errors![0]);
        fail(segments, message);
    }
    const raw = data as Raw;
    const defaults = (raw.defaults ?? {}) as Raw;
    /** A duration within MAX_WAIT_SEC, or the file's error naming where it is and what is allowed. */
    const bounded = (text: unknown, at: (string | number)[]): number => {
        const ms = durationMs(text as string);
        if (ms > MAX_WAIT_SEC * 1000) {
            fail(at, `${JSON.stringify(text)}: expected a duration up to ${MAX_WAIT_SEC / 60}m (${MAX_WAIT_SEC} s)`);
        }
        return ms;
    };
    const defaultWithin =
        defaults.within === undefined ? DEFAULT_STEP_WITHIN_MS : bounded(defaults.within, ["defaults", "within"]);

    const expandHeaders = (headers: Record<string, string>, at: (string | number)[]): Record<string, string> =>
        Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [
                name,
                value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
                    const found = env[variable];
                    if (found === undefined) {
                        fail([...at, name], `environment variable ${variable} is not set`);
                    }
                    return found!;
                }),
            ]),
        );
    const defaultHeaders = defaults.headers
        ? expandHeaders(defaults.headers as Record<string, string>, ["defaults", "headers"])
        : {};

    const names = new Set<string>();
    const checks = (raw.checks as Raw[]).map((check, c): Check => {
        const name = check.name as string;
        if (names.has(name)) {
            fail(["checks", c, "name"], `${JSON.stringify(name)}: another check has this name; names must be unique`);
        }
        names.add(name);
        const captured = new Set<string>();
        let connected = false;
        const checkTemplates = (value: unknown, at: (string | number)[], sentSoFar: boolean) => {
            const strings: string[] = [];
            const walk = (v: unknown) => {
                if (typeof v === "string") {
                    strings.push(v);
                } else if (Array.isArray(v)) {
                    v.forEach(walk);
                } else if (typeof v === "object" && v !== null) {
                    Object.values(v).forEach(walk);
                }
            };
            walk(value);
            for (const s of strings) {
                for (const [, variable] of s.matchAll(TEMPLATE)) {
                    const known =
                        variable === "uuid" ||
                        variable === "now" ||
                        (variable.startsWith("sent.") && sentSoFar) ||
                        captured.has(variable);
                    if (!known) {
                        fail(
                            at,
                            `{{${variable}}} is neither uuid, now, sent.FIELD after a send, nor a variable captured by an earlier step (captured so far: ${[...captured].join(", ") || "none"})`,
                        );
                    }
                }
            }
        };
        let sent = false;
        const steps = (check.steps as Raw[]).map((step, s): Step => {
            const at: (string | number)[] = ["checks", c, "steps", s];
            const [kind, body] = Object.entries(step)[0] as [StepKind, unknown];
            const line = lineAt(at);
            const b = (body ?? {}) as Raw;
            const within = b.within === undefined ? defaultWithin : bounded(b.within, [...at, kind, "within"]);
            if (kind !== "connect" && kind !== "sleep" && !connected) {
                fail([...at, kind], `a ${kind} step needs a connection: put a connect step before it`);
            }
            switch (kind) {
                case "connect": {
                    connected = true;
                    const own = b.headers
                        ? expandHeaders(b.headers as Record<string, string>, [...at, kind, "headers"])
                        : {};
                    return {
                        kind,
                        line,
                        path: (b.path ?? defaults.path ?? "/ws") as string,
                        headers: { ...(b.noDefaultHeaders ? {} : defaultHeaders), ...own },
                        subprotocol: (b.subprotocol ?? defaults.subprotocol) as string | undefined,
                        origin: (b.origin ?? defaults.origin) as string | undefined,
                        status: (b.status ?? 101) as number,
                        withinMs: within,
                    };
                }
                case "send":
                    checkTemplates(b, [...at, kind], sent);
                    sent = true;
                    return { kind, line, text: b.text as string | undefined, json: b.json };
                case "expect": {
                    if (b.none && (b.json || b.match || b.text !== undefined || b.count || b.capture)) {
                        fail(
                            [...at, kind, "none"],
                            "none (a quiet period) takes only within; it cannot be combined with json, match, text, count or capture",
                        );
                    }
                    checkTemplates(b.json, [...at, kind, "json"], sent);
                    checkTemplates(b.text, [...at, kind, "text"], sent);
                    const match: Record<string, RegExp> = {};
                    for (const [field, pattern] of Object.entries((b.match ?? {}) as Record<string, string>)) {
                        try {
                            match[field] = new RegExp(pattern);
                        } catch (e) {
                            fail(
                                [...at, kind, "match", field],
                                `${JSON.stringify(pattern)} is not a regular expression (${(e as Error).message})`,
                            );
                        }
                    }
                    for (const variable of Object.keys((b.capture ?? {}) as Raw)) {
                        captured.add(variable);
                    }
                    return {
                        kind,
                        line,
                        json: b.json as Record<string, unknown> | undefined,
                        match: b.match ? match : undefined,
                        text: b.text as string | undefined,
                        count: (b.count ?? 1) as number,
                        none: b.none === true,
                        strict: b.strict === true,
                        capture: (b.capture ?? {}) as Record<string, string>,
                        withinMs: within,
                    };
                }
                case "sleep":
                    return { kind, line, ms: bounded(body, [...at, kind]) };
                case "ping":
                    return { kind, line, withinMs: within };
                case "close":
                    connected = false;
                    return {
                        kind,
                        line,
                        code: b.code as number | undefined,
                        reason: b.reason as string | undefined,
                        expect: b.expect as number | undefined,
                        withinMs: within,
                    };
            }
        });
        return {
            name,
            line: lineAt(["checks", c]),
            repeat: (check.repeat ?? 1) as number,
            parallel: (check.parallel ?? 1) as number,
            steps,
        };
    });
    return { file, parallel: (raw.parallel ?? 1) as number, checks };
}

/** Reads a scenario file (YAML; JSON is YAML too). */
export function loadScenario(file: string, env: NodeJS.ProcessEnv): Scenario {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ScenarioError(
            `--scenario ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
    }
    return parseScenario(text, file, env);
}
