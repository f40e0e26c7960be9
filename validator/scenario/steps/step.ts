import type { ConnectOptions, FailureCode, SocketPool } from "../../core";
import type { Closed, Connection } from "../connection";
import type { Vars } from "../template";
import type { StepKind } from "./index";

// What every step kind is made of: how its body in a scenario file becomes a step, and how the
// step runs. Each kind is one file in this folder, listed in index.ts, with its schema in
// validator/scenarios/scenario.schema.json.

/** A path into the scenario file's data, for errors: `["checks", 0, "steps", 2, "expect"]`. */
export type At = readonly (string | number)[];

export type Raw = Record<string, unknown>;

export interface Located {
    /** 1-based line of the step in the scenario file, for failure reports. */
    readonly line: number;
}

/** What parsing a step knows of the file and of the check's earlier steps. */
export interface StepParse {
    /** Where the step's body is. */
    readonly at: At;
    readonly line: number;
    /** The step's `within`, or the file's default. */
    readonly withinMs: number;
    /** The file's `defaults` section. */
    readonly defaults: Raw;
    /** The default headers, with environment variables filled in. */
    readonly defaultHeaders: Readonly<Record<string, string>>;
    /** Whether an earlier step of the check sent a message (for `{{sent.FIELD}}`). */
    sent: boolean;
    /** Whether the check has a connection at this step. */
    connected: boolean;
    /** Variables captured by earlier steps. */
    readonly captured: Set<string>;
    readonly fail: (at: At, message: string) => never;
    /** Fills `${VAR}` in header values from the environment. */
    readonly expandHeaders: (headers: Record<string, string>, at: At) => Record<string, string>;
    /** Fails on a `{{...}}` in the value that names nothing known at this step. */
    checkTemplates(value: unknown, at: At): void;
}

/** What a failed step saw. */
export interface StepFailure {
    readonly code: FailureCode;
    readonly message: string;
    /** 1-based step number within its check, its kind and its line in the scenario file. */
    readonly step: number;
    readonly kind: StepKind;
    readonly line: number;
    readonly expected: string;
    /** The last messages the connection received, newest last. */
    readonly received: string[];
    readonly status?: number;
    readonly closeCode?: number;
    readonly closeReason?: string;
    /** Milliseconds from the step's start to its failure. */
    readonly elapsedMs: number;
}

export type ScenarioRunOptions = Omit<ConnectOptions, "handshakeTimeoutMs"> & {
    readonly sockets: SocketPool;
    /** Ctrl-C: a sleep ends at once, no further step or run starts, and the run in progress says so. */
    readonly signal?: AbortSignal;
};

/** One run of a check as its steps see it. */
export interface StepRun {
    readonly baseUrl: string;
    readonly options: ScenarioRunOptions;
    readonly vars: Vars;
    /** The last JSON message sent, for `{{sent.FIELD}}`. */
    sent: unknown;
    /** The run's connection, if one is open; a connect step opens it and a close step ends it. */
    connection: Connection | undefined;
    /** performance.now() when the step started. */
    readonly started: number;
    failed(code: FailureCode, message: string, expected: string, extra?: Partial<StepFailure>): StepFailure;
    /** The failure of a step whose connection closed while it waited. */
    closedEarly(closed: Closed, expected: string): StepFailure;
}

type Outcome = Promise<StepFailure | undefined>;

/** A kind of step that works on its own (it opens a connection, or needs none). */
export interface Standalone<S> {
    readonly needsConnection: false;
    parse(body: unknown, parse: StepParse): Omit<S, "kind" | "line">;
    run(step: S, run: StepRun): Outcome;
}

/** A kind of step that works on the open connection; the parser wants a connect step before it. */
export interface OnConnection<S> {
    readonly needsConnection: true;
    parse(body: unknown, parse: StepParse): Omit<S, "kind" | "line">;
    run(step: S, run: StepRun, connection: Connection): Outcome;
}

export type StepDefinition<S> = Standalone<S> | OnConnection<S>;
