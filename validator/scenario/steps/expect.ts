import { performance } from "perf_hooks";
import { isDeepStrictEqual } from "util";
import type { Connection, Received } from "../connection";
import { fieldAt, render } from "../template";
import type { Located, OnConnection, Raw, StepParse, StepRun } from "./step";

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

function parse(body: unknown, p: StepParse): Omit<ExpectStep, "kind" | "line"> {
    const b = (body ?? {}) as Raw;
    if (b.none && (b.json || b.match || b.text !== undefined || b.count || b.capture)) {
        p.fail(
            [...p.at, "none"],
            "none (a quiet period) takes only within; it cannot be combined with json, match, text, count or capture",
        );
    }
    p.checkTemplates(b.json, [...p.at, "json"]);
    p.checkTemplates(b.text, [...p.at, "text"]);
    const match: Record<string, RegExp> = {};
    for (const [field, pattern] of Object.entries((b.match ?? {}) as Record<string, string>)) {
        try {
            match[field] = new RegExp(pattern);
        } catch (e) {
            p.fail(
                [...p.at, "match", field],
                `${JSON.stringify(pattern)} is not a regular expression (${(e as Error).message})`,
            );
        }
    }
    for (const variable of Object.keys(b.capture ?? {})) {
        p.captured.add(variable);
    }
    return {
        json: b.json as Record<string, unknown> | undefined,
        match: b.match ? match : undefined,
        text: b.text as string | undefined,
        count: (b.count ?? 1) as number,
        none: b.none === true,
        strict: b.strict === true,
        capture: (b.capture ?? {}) as Record<string, string>,
        withinMs: p.withinMs,
    };
}

/** The step with its templates filled for this run. */
interface Wanted {
    readonly step: ExpectStep;
    readonly json?: Record<string, unknown>;
    readonly text?: unknown;
}

function describe({ step, json, text }: Wanted): string {
    if (step.none) {
        return `no message for ${step.withinMs} ms`;
    }
    const parts: string[] = [];
    if (json) {
        parts.push(`JSON with ${JSON.stringify(json)}`);
    }
    if (step.match) {
        const sources = Object.fromEntries(Object.entries(step.match).map(([k, r]) => [k, r.source]));
        parts.push(`fields matching ${JSON.stringify(sources)}`);
    }
    if (text !== undefined) {
        parts.push(`text ${JSON.stringify(text)}`);
    }
    const what = parts.join(" and ") || "any message";
    const count = step.count > 1 ? `${step.count} messages: ` : "";
    return `${count}${what} within ${step.withinMs} ms${step.strict ? " (as the very next message)" : ""}`;
}

function matches(message: Received, { step, json, text }: Wanted): boolean {
    if (text !== undefined && message.text !== text) {
        return false;
    }
    if (
        json &&
        !Object.entries(json).every(([path, expected]) => isDeepStrictEqual(fieldAt(message.json, path), expected))
    ) {
        return false;
    }
    if (step.match) {
        return Object.entries(step.match).every(([path, regex]) => {
            const value = fieldAt(message.json, path);
            return value !== undefined && regex.test(typeof value === "string" ? value : JSON.stringify(value));
        });
    }
    return true;
}

/** Waits for the messages the step wants (or, for `none`, for quiet), reading on from the last step's. */
async function run(s: ExpectStep, r: StepRun, c: Connection) {
    const deadline = r.started + s.withinMs;
    const text = s.text === undefined ? undefined : render(s.text, r.vars, r.sent);
    const wanted: Wanted = {
        step: s,
        json: s.json && (render(s.json, r.vars, r.sent) as Record<string, unknown>),
        text,
    };
    const expected = describe(wanted);
    let found = 0;
    let skipped = 0;
    for (;;) {
        while (c.cursor < c.messages.length) {
            const message = c.messages[c.cursor++];
            if (s.none) {
                return r.failed("STEP_MISMATCH", `a message arrived during the quiet period`, expected);
            }
            if (matches(message, wanted)) {
                found += 1;
                for (const [variable, path] of Object.entries(s.capture)) {
                    r.vars.set(variable, fieldAt(message.json, path));
                }
                if (found === s.count) {
                    return undefined;
                }
            } else if (s.strict) {
                return r.failed("STEP_MISMATCH", `the next message did not match`, expected);
            } else {
                skipped += 1;
            }
        }
        if (c.closed) {
            return r.closedEarly(c.closed, expected);
        }
        if (performance.now() >= deadline) {
            return s.none ? undefined : timedOut(s, r, { found, skipped }, expected);
        }
        await c.next(deadline);
    }
}

function timedOut(s: ExpectStep, r: StepRun, seen: { found: number; skipped: number }, expected: string) {
    const got = seen.found > 0 ? `${seen.found} of ${s.count} matching messages` : "no matching message";
    return seen.skipped > 0
        ? r.failed(
              "STEP_MISMATCH",
              `${got} within ${s.withinMs} ms; ${seen.skipped} other message(s) arrived`,
              expected,
          )
        : r.failed("STEP_TIMEOUT", `${got} within ${s.withinMs} ms; nothing else arrived`, expected);
}

export const expect: OnConnection<ExpectStep> = {
    needsConnection: true,
    parse,
    run,
};
