import * as path from "path";
import {
    loadStackConfig,
    ProgramError,
    ProgramRun,
    RecordedResource,
    runProgram,
    SECRET_PLACEHOLDER,
    StackConfig,
} from "../../preview";

export { loadStackConfig, ProgramError, ProgramRun, RecordedResource, runProgram, SECRET_PLACEHOLDER };

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

export const TYPES = {
    backendService: "gcp:compute/backendService:BackendService",
    urlMap: "gcp:compute/uRLMap:URLMap",
    forwardingRule: "gcp:compute/globalForwardingRule:GlobalForwardingRule",
    httpsProxy: "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
    httpProxy: "gcp:compute/targetHttpProxy:TargetHttpProxy",
    sslPolicy: "gcp:compute/sSLPolicy:SSLPolicy",
    certificate: "gcp:compute/managedSslCertificate:ManagedSslCertificate",
    address: "gcp:compute/globalAddress:GlobalAddress",
    neg: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
    cloudRun: "gcp:cloudrunv2/service:Service",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    autoscaler: "gcp:compute/regionAutoscaler:RegionAutoscaler",
    template: "gcp:compute/instanceTemplate:InstanceTemplate",
    healthCheck: "gcp:compute/healthCheck:HealthCheck",
    firewall: "gcp:compute/firewall:Firewall",
    router: "gcp:compute/router:Router",
    routerNat: "gcp:compute/routerNat:RouterNat",
    subnetwork: "gcp:compute/subnetwork:Subnetwork",
    serviceAccount: "gcp:serviceaccount/account:Account",
    projectIamMember: "gcp:projects/iAMMember:IAMMember",
    stack: "pulumi:pulumi:Stack",
} as const;

/** Runs a real stack file (plus `key=value` overrides) under the mock runtime. */
export function runStack(stack: string, overrides: string[] = [], stackFile?: string): Promise<ProgramRun> {
    return runProgram(loadStackConfig({ projectDir: PROJECT_DIR, stack, overrides, stackFile }));
}

/** A test program's folder as a stack "dev" with no config, as loadStackConfig would give it. */
export function fixtureStack(projectDir: string, project = path.basename(projectDir)): StackConfig {
    return { project, stack: "dev", projectDir, config: {}, secretKeys: [], notices: [] };
}

export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function named(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        throw new Error(
            `no ${type} named ${name}; have: ${ofType(run, type)
                .map((r) => r.name)
                .join(", ")}`,
        );
    }
    return found;
}

/** Resources that a given resource's property points at, through the recorded property dependencies. */
export function dependedOnBy(run: ProgramRun, resource: RecordedResource, property: string): RecordedResource[] {
    const urns = resource.propertyDependencies[property] ?? [];
    return run.resources.filter((r) => urns.includes(r.urn));
}
