import * as util from "util";
import type * as provider from "@pulumi/pulumi/provider";
import { Cloud } from "./cloud";
import { apiRefusal } from "./refusals";
import { hash, numericId, parseUrn, TypeSpec, TYPES } from "./types";

type Props = Record<string, unknown>;

/** The engine's wire value for an unknown at preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const PROVIDER_VERSION = "9.37.0";

/** deletionProtection defaults to true (cloudrunv2/service.d.ts, cloudrunv2/job.d.ts). */
const DELETION_PROTECTED: readonly string[] = ["gcp:cloudrunv2/service:Service", "gcp:cloudrunv2/job:Job"];

/** Provider configuration the engine sends in Configure (`gcp:project`, `gcp:region`). */
export interface ProviderConfig {
    project?: string;
    region?: string;
}

function specOf(type: string): TypeSpec {
    const spec = TYPES[type];
    if (!spec) {
        throw new Error(`the gcp stand-in does not model ${type}; add it to test/engine/gcp-provider/types.ts`);
    }
    return spec;
}

function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsUnknown);
    }
    if (typeof value === "object" && value !== null) {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/**
 * A stand-in for the `gcp` resource provider, for the engine tests only: it serves the real
 * provider protocol (through @pulumi/pulumi/provider) and keeps its pretend cloud in a file, but
 * talks to no Google API. Its outputs are deterministic functions of the URN and inputs.
 */
export class GcpStandIn implements provider.Provider {
    readonly version = PROVIDER_VERSION;
    private readonly cloud: Cloud;

    constructor(
        private readonly config: ProviderConfig,
        cloudFile: string | undefined,
    ) {
        this.cloud = new Cloud(cloudFile);
    }

    private project(props: Props): string {
        const project = typeof props.project === "string" ? props.project : this.config.project;
        if (!project) {
            throw new Error("googleapi: project: required field is not set (set gcp:project in the stack config)");
        }
        return project;
    }

    private location(props: Props, spec: TypeSpec): string {
        const value = spec.scope === "location" ? props.location : props.region;
        const location = typeof value === "string" ? value : this.config.region;
        if (!location) {
            throw new Error(`googleapi: ${spec.scope}: required field is not set (set gcp:region in the stack config)`);
        }
        return location;
    }

    /** The resource's id, as the provider's import id formats write it. */
    private idOf(urn: string, type: string, props: Props): string {
        const spec = specOf(type);
        const project = this.project(props);
        const name = String(props.name);
        switch (type) {
            case "gcp:cloudrunv2/serviceIamMember:ServiceIamMember":
                return `projects/${project}/locations/${this.location(props, spec)}/services/${name} ${String(props.role)} ${String(props.member)}`;
            case "gcp:logging/metric:Metric":
                return name;
            case "gcp:monitoring/notificationChannel:NotificationChannel":
            case "gcp:monitoring/alertPolicy:AlertPolicy":
                return `projects/${project}/${spec.collection}/${numericId(urn, 19)}`;
            case "gcp:storage/bucket:Bucket":
                return name;
            case "gcp:storage/bucketObject:BucketObject":
                return `${String(props.bucket)}/${name}`;
            case "gcp:storage/bucketIAMMember:BucketIAMMember":
                // storage/bucketIAMMember.d.ts's import id: "b/{{bucket}} roles/... member".
                return `b/${String(props.bucket)} ${String(props.role)} ${String(props.member)}`;
            case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
                return `projects/${project}/uptimeCheckConfigs/${hash(urn, 12)}`;
            case "gcp:secretmanager/secretIamMember:SecretIamMember":
                return `projects/${project}/secrets/${String(props.secretId)} ${String(props.role)} ${String(props.member)}`;
            case "gcp:pubsub/topicIAMMember:TopicIAMMember":
                return `${String(props.topic)} ${String(props.role)} ${String(props.member)}`;
            case "gcp:compute/routerNat:RouterNat":
                return `${project}/${this.location(props, spec)}/${String(props.router)}/${name}`;
            case "gcp:serviceaccount/account:Account":
                return `projects/${project}/serviceAccounts/${String(props.accountId)}@${project}.iam.gserviceaccount.com`;
            case "gcp:projects/iAMMember:IAMMember":
                return `${project}/${String(props.role)}/${String(props.member)}`;
            case "gcp:monitoring/dashboard:Dashboard":
                return `projects/${numericId(project, 12)}/dashboards/${hash(urn, 8)}-${hash(`${urn}#`, 4)}-${hash(`${urn}##`, 4)}`;
        }
        switch (spec.scope) {
            case "global":
                return `projects/${project}/global/${spec.collection}/${name}`;
            case "region":
                return `projects/${project}/regions/${this.location(props, spec)}/${spec.collection}/${name}`;
            case "location":
                return `projects/${project}/locations/${this.location(props, spec)}/${spec.collection}/${name}`;
            case "project":
                return `projects/${project}/${spec.collection}/${name}`;
        }
    }

    /** Inputs plus what Google and the provider fill in. */
    private outputs(urn: string, type: string, id: string, inputs: Props, olds: Props | undefined): Props {
        const spec = specOf(type);
        const project = this.project(inputs);
        const outs: Props = { ...inputs, project };
        if (spec.selfLink) {
            outs.selfLink = `https://www.googleapis.com/compute/v1/${id}`;
            outs.creationTimestamp = olds?.creationTimestamp ?? "2026-01-01T00:00:00.000-08:00";
        }
        switch (type) {
            case "gcp:compute/backendService:BackendService":
                outs.generatedId = Number(numericId(urn, 15));
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                break;
            case "gcp:compute/healthCheck:HealthCheck":
                outs.type = inputs.httpHealthCheck ? "HTTP" : inputs.httpsHealthCheck ? "HTTPS" : "TCP";
                break;
            case "gcp:compute/instanceTemplate:InstanceTemplate":
                outs.selfLinkUnique = `${String(outs.selfLink)}?uniqueId=${numericId(JSON.stringify(inputs), 19)}`;
                outs.metadataFingerprint = hash(JSON.stringify(inputs.metadata ?? {}), 12);
                outs.tagsFingerprint = hash(JSON.stringify(inputs.tags ?? []), 12);
                break;
            case "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager":
                outs.instanceGroup = `https://www.googleapis.com/compute/v1/projects/${project}/regions/${this.location(inputs, spec)}/instanceGroups/${String(inputs.name)}`;
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                outs.status = [{ isStable: true }];
                break;
            case "gcp:compute/globalAddress:GlobalAddress":
                // 203.0.113.0/24 is documentation space: nothing real answers on it.
                outs.address = `203.0.113.${1 + (parseInt(hash(urn, 4), 16) % 254)}`;
                outs.labelFingerprint = hash(urn, 12);
                break;
            case "gcp:compute/managedSslCertificate:ManagedSslCertificate":
                outs.certificateId = Number(numericId(urn, 15));
                outs.subjectAlternativeNames = (inputs.managed as { domains?: unknown[] } | undefined)?.domains ?? [];
                outs.expireTime = "";
                break;
            case "gcp:compute/sSLPolicy:SSLPolicy":
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                outs.enabledFeatures = [];
                break;
            case "gcp:compute/securityPolicy:SecurityPolicy":
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                break;
            case "gcp:compute/targetHttpsProxy:TargetHttpsProxy":
            case "gcp:compute/targetHttpProxy:TargetHttpProxy":
                outs.proxyId = Number(numericId(urn, 15));
                break;
            case "gcp:compute/uRLMap:URLMap":
                outs.mapId = Number(numericId(urn, 15));
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                break;
            case "gcp:cloudrunv2/service:Service": {
                // A new revision for each change of the template, as Cloud Run does.
                const template = JSON.stringify(inputs.template ?? {});
                const oldGeneration = typeof olds?.generation === "string" ? Number(olds.generation) : 0;
                const sameTemplate = olds !== undefined && JSON.stringify(olds.template ?? {}) === template;
                const generation = sameTemplate ? oldGeneration : oldGeneration + 1;
                const revision = `${String(inputs.name)}-${String(generation).padStart(5, "0")}-${hash(`${urn}${generation}${template}`, 3)}`;
                outs.generation = String(generation);
                outs.observedGeneration = String(generation);
                outs.latestCreatedRevision = revision;
                outs.latestReadyRevision = revision;
                outs.uri = `https://${String(inputs.name)}-${numericId(project, 12)}.${this.location(inputs, spec)}.run.app`;
                outs.urls = [outs.uri];
                outs.uid = `${hash(urn, 8)}-${hash(`${urn}1`, 4)}-${hash(`${urn}2`, 4)}-${hash(`${urn}3`, 4)}-${hash(`${urn}4`, 12)}`;
                outs.etag = `"${hash(template, 16)}"`;
                outs.reconciling = false;
                break;
            }
            case "gcp:storage/bucket:Bucket":
                outs.url = `gs://${String(inputs.name)}`;
                outs.selfLink = `https://www.googleapis.com/storage/v1/b/${String(inputs.name)}`;
                break;
            case "gcp:storage/bucketObject:BucketObject":
                // Content hashes from the inputs: a new archive is a new object, as in Cloud Storage.
                outs.md5hash = hash(JSON.stringify(inputs.source ?? ""), 22);
                outs.crc32c = hash(`${JSON.stringify(inputs.source ?? "")}#`, 8);
                outs.outputName = inputs.name;
                outs.mediaLink = `https://storage.googleapis.com/download/storage/v1/b/${String(inputs.bucket)}/o/${String(inputs.name)}`;
                outs.generation = Number(numericId(urn, 16));
                break;
            case "gcp:cloudfunctionsv2/function:Function":
                outs.url = `https://${this.location(inputs, spec)}-${project}.cloudfunctions.net/${String(inputs.name)}`;
                outs.state = "ACTIVE";
                outs.environment = "GEN_2";
                break;
            case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
                outs.name = id;
                outs.uptimeCheckId = id.split("/").pop();
                break;
            case "gcp:cloudrunv2/job:Job":
                outs.uid = `${hash(urn, 8)}-${hash(`${urn}1`, 4)}-${hash(`${urn}2`, 4)}-${hash(`${urn}3`, 4)}-${hash(`${urn}4`, 12)}`;
                outs.etag = `"${hash(JSON.stringify(inputs.template ?? {}), 16)}"`;
                outs.generation = String(Number(olds?.generation ?? 0) + 1);
                outs.observedGeneration = outs.generation;
                outs.reconciling = false;
                outs.executionCount = 0;
                break;
            case "gcp:secretmanager/secretIamMember:SecretIamMember":
            case "gcp:pubsub/topicIAMMember:TopicIAMMember":
            case "gcp:storage/bucketIAMMember:BucketIAMMember":
                outs.etag = `BwY${hash(JSON.stringify(inputs), 9)}=`;
                break;
            case "gcp:serviceaccount/account:Account":
                outs.email = `${String(inputs.accountId)}@${project}.iam.gserviceaccount.com`;
                outs.member = `serviceAccount:${String(outs.email)}`;
                outs.name = id;
                outs.uniqueId = numericId(urn, 21);
                break;
            case "gcp:compute/subnetwork:Subnetwork":
                outs.gatewayAddress = String((inputs.ipCidrRange as string | undefined) ?? "10.0.0.0/24").replace(
                    /\.\d+\/\d+$/,
                    ".1",
                );
                outs.fingerprint = hash(JSON.stringify(inputs), 12);
                break;
            case "gcp:projects/iAMMember:IAMMember":
            case "gcp:cloudrunv2/serviceIamMember:ServiceIamMember":
                outs.etag = `BwY${hash(JSON.stringify(inputs), 9)}=`;
                break;
            case "gcp:monitoring/notificationChannel:NotificationChannel":
                outs.name = id;
                outs.verificationStatus = inputs.type === "email" ? "VERIFICATION_STATUS_UNSPECIFIED" : "";
                break;
            case "gcp:monitoring/alertPolicy:AlertPolicy":
                outs.name = id;
                outs.creationRecords = [{ mutateTime: "2026-01-01T00:00:00Z", mutatedBy: "gcp-stand-in" }];
                break;
        }
        return outs;
    }

    /** `<name>-<7 hex>`, from the URN, or from the URN and a counter when the cloud holds that name already. */
    private freeName(urn: string, type: string, inputs: Props, name: string): string {
        for (let attempt = 0; ; attempt++) {
            const candidate = `${name}-${hash(attempt === 0 ? urn : `${urn}#${attempt}`)}`;
            let taken = false;
            try {
                taken = this.cloud.get(this.idOf(urn, type, { ...inputs, name: candidate })) !== undefined;
            } catch {
                // No project or region yet: Create reports that; the name is free as far as we know.
            }
            if (!taken) {
                return candidate;
            }
        }
    }

    // The provider interface's methods return promises, and async keeps a throw a rejection as the
    // server expects, though none of these waits on anything.
    /* eslint-disable @typescript-eslint/require-await */
    async check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
        const { type, name } = parseUrn(urn);
        const spec = specOf(type);
        const inputs: Props = { ...news };
        if (spec.autoName && inputs.name === undefined) {
            // Keep the name a resource already has; a new one gets the URN name and a suffix. For a
            // replacement the engine checks again with no olds, and the real provider's random
            // suffix gives the new resource a name of its own: here, the next free suffix.
            inputs.name = typeof olds?.name === "string" ? olds.name : this.freeName(urn, type, inputs, name);
        }
        if (spec.selfLink && inputs.project === undefined && this.config.project) {
            // The real provider's plan fills the provider's default project (inferred from its plan
            // output), so a new resource's project is known at preview, as its auto-name is.
            inputs.project = this.config.project;
        }
        const failures: provider.CheckFailure[] = [];
        if (
            typeof inputs.name === "string" &&
            spec.selfLink &&
            !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(inputs.name)
        ) {
            failures.push({
                property: "name",
                reason: `"${inputs.name}" must match the regular expression '[a-z]([-a-z0-9]*[a-z0-9])?' of at most 63 characters`,
            });
        }
        if (DELETION_PROTECTED.includes(type) && inputs.deletionProtection === undefined) {
            // The provider's default: a Cloud Run v2 service or job cannot be deleted until this is false.
            inputs.deletionProtection = true;
        }
        return { inputs, failures };
    }

    async diff(_id: string, urn: string, olds: Props, news: Props): Promise<provider.DiffResult> {
        const { type } = parseUrn(urn);
        const spec = specOf(type);
        const changed = new Set<string>();
        for (const [key, value] of Object.entries(news)) {
            // Compared as they would go over the wire: an asset's content arrives as a promise,
            // which never equals another; a change of content is in the object's name anyway.
            if (containsUnknown(value) || !util.isDeepStrictEqual(wire(value), wire(olds[key]))) {
                changed.add(key);
            }
        }
        for (const key of Object.keys(olds)) {
            if (!(key in news) && !spec.computed.includes(key) && olds[key] !== undefined && olds[key] !== null) {
                changed.add(key);
            }
        }
        const replaces = [...changed].filter((k) => spec.replaceOn.includes("*") || spec.replaceOn.includes(k));
        return { changes: changed.size > 0, replaces, deleteBeforeReplace: false };
    }

    async create(urn: string, inputs: Props): Promise<provider.CreateResult> {
        const { type } = parseUrn(urn);
        const id = this.idOf(urn, type, inputs);
        if (this.cloud.get(id)) {
            throw new Error(`googleapi: Error 409: The resource '${id}' already exists, alreadyExists`);
        }
        const refusal = apiRefusal(type, inputs, this.cloud, this.project(inputs));
        if (refusal) {
            throw new Error(refusal);
        }
        const outs = this.outputs(urn, type, id, inputs, undefined);
        this.cloud.put(id, { type, urn, props: outs });
        return { id, outs };
    }

    async read(id: string, urn: string, props?: Props): Promise<provider.ReadResult> {
        if (!this.cloud.persistent) {
            return { id, props };
        }
        const record = this.cloud.get(id);
        // An empty id tells the engine the resource is gone.
        return record ? { id, props: record.props } : { id: "", props: {} };
    }

    async update(id: string, urn: string, olds: Props, news: Props): Promise<provider.UpdateResult> {
        const { type } = parseUrn(urn);
        const refusal = apiRefusal(type, news, this.cloud, this.project(news));
        if (refusal) {
            throw new Error(refusal);
        }
        const outs = this.outputs(urn, type, id, news, olds);
        this.cloud.put(id, { type, urn, props: outs });
        return { outs };
    }

    async delete(id: string, urn: string, props: Props): Promise<void> {
        const { type } = parseUrn(urn);
        if (DELETION_PROTECTED.includes(type) && props.deletionProtection !== false) {
            throw new Error(
                `cannot destroy ${type === "gcp:cloudrunv2/job:Job" ? "job" : "service"} without setting deletion_protection=false and running \`pulumi up\` (gcp stand-in: the provider's own guard)`,
            );
        }
        this.cloud.remove(id);
    }

    async invoke(token: string, inputs: Props): Promise<provider.InvokeResult> {
        if (token === "gcp:organizations/getProject:getProject") {
            // The provider's answer for the configured project (organizations/getProject.d.ts: GetProjectResult).
            const project = typeof inputs.projectId === "string" ? inputs.projectId : this.project({});
            return {
                outputs: {
                    id: `projects/${project}`,
                    projectId: project,
                    name: project,
                    number: numericId(project, 12),
                    labels: {},
                    effectiveLabels: {},
                },
            };
        }
        throw new Error(
            `the gcp stand-in has no answer for the function ${token}; add one to test/engine/gcp-provider/standIn.ts`,
        );
    }
    /* eslint-enable @typescript-eslint/require-await */
}

/** A value as JSON carries it: promises (asset contents) compare equal, undefined drops out. */
function wire(value: unknown): unknown {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
