import {
    EnforcementLevel,
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { policies } from "../../policies/policies";
import { sdkProxy } from "../../policies/lib/sdk-proxy";

type Props = Record<string, unknown>;

/** What the engine would show for one policy run. */
export interface Outcome {
    readonly violations: string[];
    /** urn each violation was reported against (stack policies). */
    readonly urns: (string | undefined)[];
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
export function engineConfig(policy: Policy, given: Props = {}): Props {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {})
            .filter(([, schema]) => (schema as { default?: unknown }).default !== undefined)
            .map(([key, schema]) => [key, structuredClone((schema as { default: unknown }).default)]),
    );
    return { ...defaults, ...given };
}

const STACK_TAGS: ReadonlyMap<string, string> = Object.freeze(new Map([["pulumi:project", "websocket-lb"], ["pulumi:runtime", "nodejs"]]));

function isType(type: string) {
    return (cls: { __pulumiType?: string; isInstance?: (o: unknown) => boolean }) =>
        cls.__pulumiType === type || cls.isInstance?.({ __pulumiType: type }) === true;
}

async function capture(run: (report: (message: string, urn?: string) => void) => unknown, policy: Policy): Promise<Outcome> {
    const violations: string[] = [];
    const urns: (string | undefined)[] = [];
    try {
        await run((message, urn) => {
            violations.push(message);
            urns.push(urn);
        });
        return { violations, urns };
    } catch (e) {
        if (e instanceof NotApplicableError) {
            return { violations, urns, notApplicable: e.reason };
        }
        if (e instanceof sdkProxy.UnknownValueError) {
            return { violations, urns, cantRun: `can't run policy '${policy.name}' during preview: ${e.message}` };
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
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: STACK_TAGS,
        isType: isType(r.type) as ResourceValidationArgs["isType"],
        asType: ((cls: never) => (isType(r.type)(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: (() => structuredClone(config)) as ResourceValidationArgs["getConfig"],
        notApplicable,
    };
}

/** Runs a resource policy the way the analyzer server does for one resource. */
export function runResourcePolicy(policy: ResourceValidationPolicy, resource: TestResource, given: Props = {}): Promise<Outcome> {
    const args = resourceArgs(resource, engineConfig(policy, given));
    const validate = policy.validateResource;
    const validations = validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
    return capture(async (report) => {
        for (const validation of validations) {
            await validation(args, report);
        }
    }, policy);
}

/** Runs a remediation the way the analyzer server does; undefined when nothing changes. */
export async function remediate(policy: ResourceValidationPolicy, resource: TestResource, given: Props = {}): Promise<Props | undefined> {
    const result = await policy.remediateResource?.(resourceArgs(resource, engineConfig(policy, given)));
    return result ?? undefined;
}

/** Builds the stack view the analyzer server builds: parents, dependencies and property dependencies as resources. */
export function stackResources(resources: TestResource[]): PolicyResource[] {
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

export function runStackPolicy(policy: StackValidationPolicy, resources: TestResource[] | PolicyResource[], given: Props = {}): Promise<Outcome> {
    const config = engineConfig(policy, given);
    const view = resources.length > 0 && "dependencies" in resources[0] ? (resources as PolicyResource[]) : stackResources(resources as TestResource[]);
    const args: StackValidationArgs = {
        resources: view,
        getConfig: (() => structuredClone(config)) as StackValidationArgs["getConfig"],
        stackTags: STACK_TAGS,
        notApplicable,
    };
    return capture((report) => policy.validateStack(args, report), policy);
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

/** The resources a program run recorded, as the stack the analyzer would see. */
export function fromRecorded(recorded: ReadonlyArray<{ urn: string; type: string; name: string; inputs: Props; propertyDependencies: Record<string, string[]> }>): TestResource[] {
    const byUrn = new Map<string, TestResource>();
    const resources = recorded.map((r) => {
        const resource: TestResource = { type: r.type, name: r.name, props: r.inputs, links: {} };
        byUrn.set(r.urn, resource);
        return resource;
    });
    recorded.forEach((r, i) => {
        const links = resources[i].links as Record<string, TestResource[]>;
        for (const [property, urns] of Object.entries(r.propertyDependencies)) {
            links[property] = urns.map((u) => byUrn.get(u)).filter((t): t is TestResource => t !== undefined);
        }
    });
    return resources;
}

/** Every policy of the pack over a stack, resource policies per resource and stack policies once. */
export async function runPack(resources: TestResource[], config: Record<string, Props> = {}): Promise<Array<{ policy: string; level: EnforcementLevel } & Outcome>> {
    const results: Array<{ policy: string; level: EnforcementLevel } & Outcome> = [];
    for (const policy of policies) {
        const given = config[policy.name] ?? {};
        if (isStackPolicy(policy)) {
            results.push({ policy: policy.name, level: levelOf(policy), ...(await runStackPolicy(policy, resources, given)) });
        } else {
            for (const resource of resources) {
                results.push({ policy: policy.name, level: levelOf(policy), ...(await runResourcePolicy(policy as ResourceValidationPolicy, resource, given)) });
            }
        }
    }
    return results;
}
