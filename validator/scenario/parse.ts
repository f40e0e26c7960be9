import type Ajv from "ajv";
import type { ErrorObject } from "ajv";
import * as fs from "fs";
import * as path from "path";
import type { Node } from "yaml";
import { UsageError } from "../../cli/kit";
import { boundedDurationMs } from "./duration";
import { definitionOf, type Step, type StepKind, type StepParse } from "./steps";
import type { At, Raw } from "./steps/step";
import { stringsIn, TEMPLATE } from "./template";

// A scenario file: named checks, each a list of steps on one connection, in the manner of k6 and
// Artillery scripts. The file is checked against the published JSON Schema on load, then for what
// a schema cannot say (regexes that compile, variables captured before use, a connection before
// any step that needs one). Every problem names the file and line.

export const SCHEMA_FILE = path.join(__dirname, "..", "scenarios", "scenario.schema.json");

/** A scenario file that cannot be used: one line naming the file, the line and the problem. */
export class ScenarioError extends UsageError {}

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
const DEFAULT_STEP_WITHIN_MS = 5000;

let compiled: ReturnType<Ajv["compile"]> | undefined;
function schemaValidator(): ReturnType<Ajv["compile"]> {
    if (!compiled) {
        // Loaded on first use: the command line imports this room for its flags, and a run without
        // --scenario should not pay for the schema compiler and the YAML parser at start.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
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

/** A parsed YAML document with the lines of its nodes. */
interface Document {
    readonly file: string;
    readonly data: unknown;
    /** The line of the node at a path; for a key that is not there, its parent's line. */
    readonly lineAt: (segments: At) => number;
    readonly fail: (segments: At, message: string) => never;
}

function parseYaml(text: string, file: string): Document {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, as the schema compiler is
    const { isMap, isNode, LineCounter, parseDocument } = require("yaml") as typeof import("yaml");
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
    if (doc.errors.length > 0) {
        const e = doc.errors[0];
        throw new ScenarioError(`${file}:${lineOf(e.pos[0])}: not valid YAML or JSON: ${e.message.split("\n")[0]}`);
    }
    const lineAt = (segments: At): number => {
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
    const fail = (segments: At, message: string): never => {
        throw new ScenarioError(`${file}:${lineAt(segments)}: ${where(segments)}: ${message}`);
    };
    return { file, data: doc.toJS(), lineAt, fail };
}

/** What every check of a file shares: its defaults, and how to report a problem. */
interface FileContext {
    readonly doc: Document;
    readonly defaults: Raw;
    readonly defaultWithin: number;
    readonly defaultHeaders: Readonly<Record<string, string>>;
    readonly expandHeaders: (headers: Record<string, string>, at: At) => Record<string, string>;
}

function fileContext(doc: Document, raw: Raw, env: NodeJS.ProcessEnv): FileContext {
    const defaults = (raw.defaults ?? {}) as Raw;
    const expandHeaders = (headers: Record<string, string>, at: At): Record<string, string> =>
        Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [
                name,
                value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
                    const found = env[variable];
                    return found ?? doc.fail([...at, name], `environment variable ${variable} is not set`);
                }),
            ]),
        );
    return {
        doc,
        defaults,
        defaultWithin:
            defaults.within === undefined
                ? DEFAULT_STEP_WITHIN_MS
                : boundedDurationMs(defaults.within, ["defaults", "within"], doc.fail),
        defaultHeaders: defaults.headers
            ? expandHeaders(defaults.headers as Record<string, string>, ["defaults", "headers"])
            : {},
        expandHeaders,
    };
}

/** The parse state of one check, which each step reads and moves on. */
function checkContext(file: FileContext): Omit<StepParse, "at" | "line" | "withinMs"> {
    const captured = new Set<string>();
    const state = {
        defaults: file.defaults,
        defaultHeaders: file.defaultHeaders,
        sent: false,
        connected: false,
        captured,
        fail: file.doc.fail,
        expandHeaders: file.expandHeaders,
        checkTemplates(value: unknown, at: At): void {
            for (const s of stringsIn(value)) {
                for (const [, variable] of s.matchAll(TEMPLATE)) {
                    const known =
                        variable === "uuid" ||
                        variable === "now" ||
                        (variable.startsWith("sent.") && state.sent) ||
                        captured.has(variable);
                    if (!known) {
                        file.doc.fail(
                            at,
                            `{{${variable}}} is neither uuid, now, sent.FIELD after a send, nor a variable captured by an earlier step (captured so far: ${[...captured].join(", ") || "none"})`,
                        );
                    }
                }
            }
        },
    };
    return state;
}

function parseStep(step: Raw, at: At, file: FileContext, check: ReturnType<typeof checkContext>): Step {
    const [kind, body] = Object.entries(step)[0] as [StepKind, unknown];
    const definition = definitionOf(kind);
    if (definition.needsConnection && !check.connected) {
        file.doc.fail([...at, kind], `a ${kind} step needs a connection: put a connect step before it`);
    }
    const within = (body as Raw | null)?.within;
    const line = file.doc.lineAt(at);
    const context: StepParse = Object.assign(check, {
        at: [...at, kind],
        line,
        withinMs:
            within === undefined
                ? file.defaultWithin
                : boundedDurationMs(within, [...at, kind, "within"], file.doc.fail),
    });
    return { kind, line, ...definition.parse(body, context) } as Step;
}

function parseCheck(check: Raw, c: number, file: FileContext): Check {
    const state = checkContext(file);
    const steps = (check.steps as Raw[]).map((step, s) => parseStep(step, ["checks", c, "steps", s], file, state));
    return {
        name: check.name as string,
        line: file.doc.lineAt(["checks", c]),
        repeat: (check.repeat ?? 1) as number,
        parallel: (check.parallel ?? 1) as number,
        steps,
    };
}

/** Parses and checks a scenario's text; `file` names it in errors; `env` fills `${VAR}` in headers. */
export function parseScenario(text: string, file: string, env: NodeJS.ProcessEnv): Scenario {
    const doc = parseYaml(text, file);
    const validateSchema = schemaValidator();
    if (!validateSchema(doc.data) && validateSchema.errors) {
        const { segments, message } = schemaProblem(validateSchema.errors[0]);
        doc.fail(segments, message);
    }
    const raw = doc.data as Raw;
    const context = fileContext(doc, raw, env);
    const names = new Set<string>();
    const checks = (raw.checks as Raw[]).map((check, c): Check => {
        const name = check.name as string;
        if (names.has(name)) {
            doc.fail(
                ["checks", c, "name"],
                `${JSON.stringify(name)}: another check has this name; names must be unique`,
            );
        }
        names.add(name);
        return parseCheck(check, c, context);
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
