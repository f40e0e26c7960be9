import type { CloseStep } from "./close";
import { close } from "./close";
import type { ConnectStep } from "./connect";
import { connect } from "./connect";
import type { ExpectStep } from "./expect";
import { expect } from "./expect";
import type { PingStep } from "./ping";
import { ping } from "./ping";
import type { SendStep } from "./send";
import { send } from "./send";
import type { SleepStep } from "./sleep";
import { sleep } from "./sleep";
import type { StepDefinition } from "./step";

// Every kind of step a scenario may use. A new kind is one file here, a row in these two tables,
// and its shape in validator/scenarios/scenario.schema.json.

export interface Steps {
    connect: ConnectStep;
    send: SendStep;
    expect: ExpectStep;
    sleep: SleepStep;
    ping: PingStep;
    close: CloseStep;
}

export type StepKind = keyof Steps;
export type Step = Steps[StepKind];

const STEPS: { readonly [K in StepKind]: StepDefinition<Steps[K]> } = {
    connect,
    send,
    expect,
    sleep,
    ping,
    close,
};

/** A step's definition, typed for the step itself. */
export function definitionOf<K extends StepKind>(kind: K): StepDefinition<Steps[K]> {
    return STEPS[kind];
}

export type { ScenarioRunOptions, StepFailure, StepParse, StepRun } from "./step";
