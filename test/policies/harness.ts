import {
    EnforcementLevel,
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { strict as assert } from "assert";
import * as path from "path";
import { policies } from "../../policies/policies";
import { sdkProxy } from "../../policies/lib/sdk-proxy";
import { Diagnostic, NotApplicable, RecordedResource, resolvePolicyConfig, RunningPack } from "../../preview";

type Props = Record<string, unknown>;

/** What the engine would show for one policy run. */
export interface Outcome {
    readonly violations: string[];
    /** urn each violation was reported against (stack policies). */
    readonly urns: (string | undefined)[];
    /** The level of each violation: the policy's own, unless the rule reported one of its own. */
    readonly levels: EnforcementLevel[];
    readonly notApplicable?: string;
    /** The SDK's "can't run during preview" note, when a rule read an unknown value. */
    readonly cantRun?: string;
}

class NotApplicableError extends Error {
    constructor(readonly reason: string | undefined) {
        super(reason ?? "Policy does not apply");
    }
}
const notApplicable = (reason?: string): never => {
    throw new NotApplicableError(reason);
};

/** Config as the engine hands it to a policy: schema defaults, then the user's values. */
function engineConfig(policy: Policy, given: Props = {}): Props {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {})
            .filter(([, schema]) => (schema as { default?: unknown }).default !== undefined)
            .map(([key, schema]) => [key, structuredClone((schema as { default: unknown }).default)]),
    );
    return { ...defaults, ...given };
}

const STACK_TAGS: ReadonlyMap<string, string> = Object.freeze(
    new Map([
        ["pulumi:project", "websocket-lb"],
        ["pulumi:runtime", "nodejs"],
    ]),
);

function isType(type: string) {
    return (cls: { __pulumiType?: string; isInstance?: (o: unknown) => boolean }) =>
        cls.__pulumiType === type || cls.isInstance?.({ __pulumiType: type }) === true;
}

async function capture(
    run: (report: (message: string, urn?: string) => void) => unknown,
    policy: Policy,
): Promise<Outcome> {
    const violations: string[] = [];
    const urns: (string | undefined)[] = [];
    const levels: EnforcementLevel[] = [];
    try {
        // As the SDK's reportViolation: a string, or an object carrying its own level and urn.
        await run((message: string | { message: string; urn?: string; enforcementLevel?: EnforcementLevel }, urn) => {
            const info = typeof message === "string" ? { message, urn } : message;
            violations.push(info.message);
            urns.push(info.urn);
            levels.push(info.enforcementLevel ?? levelOf(policy));
        });
        return { violations, urns, levels };
    } catch (e) {
        if (e instanceof NotApplicableError) {
            return { violations, urns, levels, notApplicable: e.reason };
        }
        if (e instanceof sdkProxy.UnknownValueError) {
            return {
                violations,
                urns,
                levels,
                cantRun: `can't run policy '${policy.name}' during preview: ${e.message}`,
            };
        }
        throw e;
    }
}

export interface TestResource {
    readonly type: string;
    readonly name: string;
    readonly props: Props;
    /** property name -> the resources its value came from (matched by type and name). */
    readonly links?: Record<string, TestResource[]>;
}

export function urnOf(r: TestResource): string {
    return `urn:pulumi:test::websocket-lb::${r.type}::${r.name}`;
}

function resourceArgs(r: TestResource, config: Props): ResourceValidationArgs {
    const props = sdkProxy.unknownCheckingProxy(structuredClone(r.props));
    return {
        type: r.type,
        name: r.name,
        urn: urnOf(r),
        props,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: STACK_TAGS,
        isType: isType(r.type) as ResourceValidationArgs["isType"],
        asType: ((cls: never) => (isType(r.type)(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: (() => structuredClone(config)) as ResourceValidationArgs["getConfig"],
        notApplicable,
    };
}

/** Runs a resource policy the way the analyzer server does for one resource. */
export function runResourcePolicy(
    policy: ResourceValidationPolicy,
    resource: TestResource,
    given: Props = {},
): Promise<Outcome> {
    const args = resourceArgs(resource, engineConfig(policy, given));
    const validate = policy.validateResource;
    const validations = validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
    return capture(async (report) => {
        try {
            for (const validation of validations) {
                await validation(args, report);
            }
        } finally {
            leftAlone(policy, resource, args.props);
        }
    }, policy);
}

/**
 * Fails a validation that changed the properties it was given: a validation only judges (a
 * change belongs in a remediation, which returns it), and the pack hands every policy the same
 * converted properties (policies/lib/deserialize-once.ts), so one policy's change would be what
 * the next one reads.
 */
function leftAlone(policy: Policy, resource: TestResource, props: object): void {
    const seen = (props as Record<string, unknown>)[sdkProxy.getSpecialProxyTarget];
    assert.deepStrictEqual(
        seen,
        resource.props,
        `policy ${policy.name} changed the properties of ${resource.type} ${resource.name}; validations must only read them`,
    );
}

/** Runs a remediation the way the analyzer server does; undefined when nothing changes. */
export async function remediate(
    policy: ResourceValidationPolicy,
    resource: TestResource,
    given: Props = {},
): Promise<Props | undefined> {
    const result = await policy.remediateResource?.(resourceArgs(resource, engineConfig(policy, given)));
    return result ?? undefined;
}

/** Builds the stack view the analyzer server builds: parents, dependencies and property dependencies as resources. */
function stackResources(resources: TestResource[]): PolicyResource[] {
    const key = (r: TestResource) => `${r.type}::${r.name}`;
    const built = new Map<string, PolicyResource>();
    for (const r of resources) {
        const props = sdkProxy.unknownCheckingProxy(structuredClone(r.props));
        built.set(key(r), {
            type: r.type,
            name: r.name,
            urn: urnOf(r),
            props,
            opts: resourceArgs(r, {}).opts,
            dependencies: [],
            propertyDependencies: {},
            isType: isType(r.type) as PolicyResource["isType"],
            asType: ((cls: never) => (isType(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
        });
    }
    for (const r of resources) {
        const resource = built.get(key(r))!;
        const all = new Set<PolicyResource>();
        for (const [property, targets] of Object.entries(r.links ?? {})) {
            resource.propertyDependencies[property] = targets.map((t) => {
                const target = built.get(key(t));
                if (!target) {
                    throw new Error(`${r.name}.${property} links to ${t.name}, which is not in the stack`);
                }
                all.add(target);
                return target;
            });
        }
        resource.dependencies = [...all];
    }
    return [...built.values()];
}

export function runStackPolicy(
    policy: StackValidationPolicy,
    resources: TestResource[] | PolicyResource[],
    given: Props = {},
): Promise<Outcome> {
    const config = engineConfig(policy, given);
    const fromTestResources = !(resources.length > 0 && "dependencies" in resources[0]);
    const view = fromTestResources ? stackResources(resources) : (resources as PolicyResource[]);
    const args: StackValidationArgs = {
        resources: view,
        getConfig: (() => structuredClone(config)) as StackValidationArgs["getConfig"],
        stackTags: STACK_TAGS,
        notApplicable,
    };
    return capture(async (report) => {
        try {
            await policy.validateStack(args, report);
        } finally {
            if (fromTestResources) {
                (resources as TestResource[]).forEach((r, i) => leftAlone(policy, r, view[i].props));
            }
        }
    }, policy);
}

export function policyNamed(name: string): Policy {
    const found = policies.find((p) => p.name === name);
    if (!found) {
        throw new Error(`no policy ${name}`);
    }
    return found;
}

export function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
    return "validateStack" in policy;
}

export function levelOf(policy: Policy): EnforcementLevel {
    return policy.enforcementLevel ?? "advisory";
}

/** A hand-built stack as the engine records it: what the offline preview hands the pack. */
export function toRecorded(resources: readonly TestResource[]): RecordedResource[] {
    return resources.map((r) => {
        const propertyDependencies = Object.fromEntries(
            Object.entries(r.links ?? {}).map(([property, targets]) => [property, targets.map(urnOf)]),
        );
        return {
            urn: urnOf(r),
            id: "",
            type: r.type,
            name: r.name,
            custom: true,
            dependencies: [...new Set(Object.values(propertyDependencies).flat())],
            propertyDependencies,
            // The wire has no undefined: a property set to undefined is a property not sent.
            inputs: JSON.parse(JSON.stringify(r.props)) as Props,
        };
    });
}

/** A pack verdict line: the policy's violation text, without the description the SDK puts before it. */
export function violationText(d: Diagnostic): string {
    return d.message.startsWith(`${d.description}\n`) ? d.message.slice(d.description.length + 1) : d.message;
}

/**
 * Every policy of the pack over a stack, through the real pack process and its analyzer protocol
 * (the offline preview's own client), configured with the pack's defaults.
 */
export async function analyzeWithPack(
    pack: RunningPack,
    resources: readonly RecordedResource[],
): Promise<{ diagnostics: Diagnostic[]; notApplicable: NotApplicable[] }> {
    await pack.configure(resolvePolicyConfig(await pack.info()), { project: "websocket-lb", stack: "test" });
    return pack.analyzeWithApplicability(resources);
}

/** Starts the repository's pack as the offline preview does; the caller stops it. */
export function startPack(): Promise<RunningPack> {
    return RunningPack.start(path.resolve(__dirname, "..", "..", "policies"), 120_000).ready;
}
