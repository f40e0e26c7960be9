import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient, AnalyzerService } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { buildPackIfStale } from "./pack-build";
import type { RecordedResource } from "./program";
import { fastPathUnavailable, isFastPath } from "./fast-paths";
import { encodeAnalyzeRequest, encodeAnalyzeStackRequest, encodeStruct, type EncodedProperties } from "./wire";

export type Level = "advisory" | "mandatory" | "remediate" | "disabled";

const LEVEL_FROM_PROTO: Record<number, Level> = {
    [proto.EnforcementLevel.ADVISORY]: "advisory",
    [proto.EnforcementLevel.MANDATORY]: "mandatory",
    [proto.EnforcementLevel.DISABLED]: "disabled",
    [proto.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_TO_PROTO: Record<Level, proto.EnforcementLevel> = {
    advisory: proto.EnforcementLevel.ADVISORY,
    mandatory: proto.EnforcementLevel.MANDATORY,
    disabled: proto.EnforcementLevel.DISABLED,
    remediate: proto.EnforcementLevel.REMEDIATE,
};

const LIFELINE = path.join(__dirname, "pack-lifeline.js");

/** The pack itself failed: it would not start, or it broke while analyzing. */
export class PackError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PackError";
    }
}

export interface PolicyInfo {
    readonly name: string;
    readonly level: Level;
    /** JSON schema `properties` of the policy's config. */
    readonly configSchema: Record<
        string,
        {
            type?: string;
            default?: unknown;
            items?: { type?: string; enum?: unknown[] };
            minimum?: number;
            enum?: unknown[];
        }
    >;
}

export interface PackInfo {
    readonly name: string;
    readonly version: string;
    readonly policies: PolicyInfo[];
}

export interface Diagnostic {
    readonly policy: string;
    readonly level: Level;
    readonly urn: string;
    readonly message: string;
    readonly description: string;
}

/** A policy that said, through notApplicable(), that it does not judge a resource. */
export interface NotApplicable {
    readonly policy: string;
    /** The resource's urn; "" when a stack policy said it. */
    readonly urn: string;
    readonly reason: string;
}

export interface PolicyConfigEntry {
    readonly level: Level;
    readonly properties: Record<string, unknown>;
}

function call<Req, Res>(
    method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
    request: Req,
): Promise<Res> {
    return new Promise((resolve, reject) => {
        method(request, (err, res) =>
            err ? reject(new PackError(`policy pack: ${err.details || err.message}`)) : resolve(res),
        );
    });
}

/** Stamps, in the pack's own process, when it printed its port (see the file). */
const READY_HOOK = path.join(__dirname, "pack-ready.js");

/**
 * A policy pack running in its own process, started the way the Pulumi CLI starts one: the
 * pack's own `@pulumi/pulumi/cmd/run-policy-pack` in the pack's directory, which prints the
 * port of the analyzer gRPC server it serves.
 */
export class RunningPack {
    private constructor(
        private readonly child: ChildProcess,
        private readonly client: AnalyzerClient,
        readonly startMs: number,
    ) {}

    /**
     * Starts the pack. `ready` resolves once it serves; `abort` kills it at any point, so a
     * caller whose other work failed need not wait for the pack to come up.
     */
    static start(packDir: string, timeoutMs = 60_000): { ready: Promise<RunningPack>; abort(): void } {
        const started = Date.now();
        let entry: string;
        try {
            entry = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
        } catch {
            const ready = Promise.reject(
                new PackError(
                    `policy pack ${packDir}: cannot find @pulumi/pulumi/cmd/run-policy-pack from there; run npm ci`,
                ),
            );
            ready.catch(() => undefined);
            return { ready, abort: () => undefined };
        }
        try {
            buildPackIfStale(packDir);
        } catch (e) {
            const ready = Promise.reject(
                new PackError(`policy pack ${path.relative(process.cwd(), packDir) || "."}: ${(e as Error).message}`),
            );
            ready.catch(() => undefined);
            return { ready, abort: () => undefined };
        }
        // The engine address is the first argument; this pack never calls back, so none is served.
        // Pipe 3 is the pack's lifeline (pack-lifeline.js): it ends the pack when this process
        // ends, on every path, SIGKILL included, which no exit handler of ours could promise. The
        // ready hook (pack-ready.js) stamps the moment the pack serves, by the pack's own clock.
        const child = spawn(process.execPath, ["-r", LIFELINE, "-r", READY_HOOK, entry, "127.0.0.1:0", "."], {
            cwd: packDir,
            stdio: ["ignore", "pipe", "pipe", "pipe"],
        });
        readPackNotices(child);
        const ready = new Promise<{ port: number; readyAt: number }>((resolve, reject) => {
            let out = "";
            let err = "";
            const fail = (why: string) => {
                clearTimeout(timer);
                child.kill("SIGKILL");
                const detail = (err || out).trim().split("\n").filter(Boolean).slice(0, 12).join("\n    ");
                reject(
                    new PackError(
                        `policy pack ${path.relative(process.cwd(), packDir) || "."} ${why}${detail ? `:\n    ${detail}` : ""}`,
                    ),
                );
            };
            let served = false;
            // Timers run before pending output is read: when the program held the event loop past
            // the bound, the port may be waiting in the pipe, so look once more before failing.
            const timer = setTimeout(
                () => setImmediate(() => served || fail(`did not print its port within ${timeoutMs / 1000} s`)),
                timeoutMs,
            );
            child.stdout!.on("data", (chunk: Buffer) => {
                out += chunk.toString();
                const line = /^(\d+)\s*$/m.exec(out);
                if (line) {
                    served = true;
                    clearTimeout(timer);
                    child.removeAllListeners("exit");
                    const stamp = /^pack-ready-at (\d+)$/m.exec(out);
                    resolve({ port: Number(line[1]), readyAt: stamp ? Number(stamp[1]) : Date.now() });
                }
            });
            child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
            child.on("error", (e) => fail(`could not be started (${e.message})`));
            child.on("exit", (code, signal) =>
                fail(`failed to start (${code === null ? `signal ${signal}` : `exit code ${code}`})`),
            );
        }).then(({ port, readyAt }) => {
            const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
                "grpc.max_receive_message_length": 400 * 1024 * 1024,
            });
            return new RunningPack(child, client, readyAt - started);
        });
        ready.catch(() => undefined);
        return { ready, abort: () => child.kill("SIGKILL") };
    }

    /** The pack's process id. */
    get pid(): number | undefined {
        return this.child.pid;
    }

    async info(): Promise<PackInfo> {
        const info = await call<Empty, proto.AnalyzerInfo>(this.client.getAnalyzerInfo.bind(this.client), new Empty());
        return {
            name: info.getName(),
            version: info.getVersion(),
            policies: info.getPoliciesList().map((p) => ({
                name: p.getName(),
                level: LEVEL_FROM_PROTO[p.getEnforcementlevel()],
                configSchema: (p.getConfigschema()?.getProperties()?.toJavaScript() ??
                    {}) as PolicyInfo["configSchema"],
            })),
        };
    }

    /**
     * Whether any policy is at level remediate. The Policy SDK's Remediate runs only those
     * (@pulumi/policy server.js, makeRemediateRpcFun), so with none its answer is empty for every
     * resource and the call can be left out. Unknown until configure(): then every resource is asked.
     */
    remediates = true;

    async configure(
        config: Record<string, PolicyConfigEntry>,
        stack: { project: string; stack: string },
    ): Promise<void> {
        this.remediates = Object.values(config).some((entry) => entry.level === "remediate");
        const request = new proto.ConfigureAnalyzerRequest();
        const map = request.getPolicyconfigMap();
        for (const [name, entry] of Object.entries(config)) {
            const policyConfig = new proto.PolicyConfig();
            policyConfig.setEnforcementlevel(LEVEL_TO_PROTO[entry.level]);
            policyConfig.setProperties(Struct.fromJavaScript(entry.properties as Record<string, never>));
            map.set(name, policyConfig);
        }
        await call<proto.ConfigureAnalyzerRequest, Empty>(this.client.configure.bind(this.client), request);

        const stackRequest = new proto.AnalyzerStackConfigureRequest();
        stackRequest.setProject(stack.project);
        stackRequest.setStack(stack.stack);
        stackRequest.setDryRun(true);
        const tags = stackRequest.getTagsMap();
        tags.set("pulumi:project", stack.project);
        tags.set("pulumi:runtime", "nodejs");
        await call<proto.AnalyzerStackConfigureRequest, proto.AnalyzerStackConfigureResponse>(
            this.client.configureStack.bind(this.client),
            stackRequest,
        ).catch((e: PackError) => {
            // Older Policy SDKs do not serve ConfigureStack; the CLI carries on without stack tags too.
            if (!/unimplemented/i.test(e.message)) {
                throw e;
            }
        });
    }

    /** Analyze for every resource, then AnalyzeStack with all of them: what `pulumi preview` sends. */
    async analyze(resources: readonly RecordedResource[], options: AnalyzeOptions = {}): Promise<Diagnostic[]> {
        return (await this.analyzeWithApplicability(resources, options)).diagnostics;
    }

    /** As `analyze`, and which policies said they do not apply to each resource (urn "" for the stack). */
    analyzeWithApplicability(
        resources: readonly RecordedResource[],
        options: AnalyzeOptions = {},
    ): Promise<AnalysisResult> {
        return analyzeAll(this, resources, options.stackPack ?? Promise.resolve(this));
    }

    /**
     * The client's side of one Analyze, Remediate or AnalyzeStack call, its request already
     * encoded (wire.ts); the answer is decoded by the generated code.
     */
    request<Res>(method: "analyze" | "remediate" | "analyzeStack", request: Buffer): Promise<Res> {
        const definition = AnalyzerService[method] as unknown as {
            path: string;
            responseDeserialize: (bytes: Buffer) => Res;
        };
        return call<Buffer, Res>(
            (bytes, done) =>
                this.client.makeUnaryRequest<Buffer, Res>(
                    definition.path,
                    (b) => b,
                    definition.responseDeserialize,
                    bytes,
                    (err, res) => done(err, res!),
                ),
            request,
        );
    }

    stop(): void {
        this.client.close();
        this.child.kill();
    }
}

/** A line the pack prints when one of its fast paths found the SDK changed (policies/lib/deserialize-once.ts). */
const PACK_NOTICE = /^websocket-lb-policies: fast path (\S+) is off: (.*)$/;

/** The pack's fast-path notices become the preview's, so a fallback inside the pack is seen. */
function readPackNotices(child: ChildProcess): void {
    let pending = "";
    child.stderr!.on("data", (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
            const notice = PACK_NOTICE.exec(line);
            if (notice && isFastPath(notice[1])) {
                fastPathUnavailable(notice[1], notice[2]);
            }
        }
    });
}

export interface AnalyzeOptions {
    /**
     * Another process of the same pack, configured alike, for AnalyzeStack: it judges the whole
     * stack while this one answers the per-resource Analyze calls.
     */
    readonly stackPack?: Promise<RunningPack>;
}

export interface AnalysisResult {
    readonly diagnostics: Diagnostic[];
    readonly notApplicable: NotApplicable[];
}

/** One resource as the pack judges it: its inputs after remediation, encoded once for Analyze and AnalyzeStack. */
interface Remediated {
    readonly resource: RecordedResource;
    readonly properties: EncodedProperties;
    readonly remediations: Diagnostic[];
}

/**
 * What `pulumi preview` sends a pack: Remediate for every resource (when a policy remediates),
 * then Analyze of what the remediations left for every resource and AnalyzeStack over all of
 * them. The stack request goes out right behind the Analyze requests rather than after their
 * answers, so this process encodes it while the pack works; diagnostics come in resource order,
 * the stack's last.
 */
async function analyzeAll(
    pack: RunningPack,
    resources: readonly RecordedResource[],
    stackPack: Promise<RunningPack>,
): Promise<AnalysisResult> {
    const remediated = await Promise.all(resources.map((r) => remediateOne(pack, r)));
    const answers = Promise.all(
        remediated.map(({ resource, properties }) =>
            pack.request<proto.AnalyzeResponse>("analyze", encodeAnalyzeRequest(resource, properties)),
        ),
    );
    const stackRequest = encodeAnalyzeStackRequest(remediated);
    const stackAnswer = stackPack.then((p) => p.request<proto.AnalyzeResponse>("analyzeStack", stackRequest));
    // Awaited together, so a failure of either is reported and neither is left unhandled.
    const [responses, stackResponse] = await Promise.all([answers, stackAnswer]);

    const diagnostics: Diagnostic[] = remediated.flatMap((r) => r.remediations);
    const notApplicable: NotApplicable[] = [];
    // A resource rule reports without a urn; the engine attaches the analyzed resource's own.
    const collect = (response: proto.AnalyzeResponse, urn = "") => {
        for (const n of response.getNotApplicableList()) {
            notApplicable.push({ policy: n.getPolicyName(), urn, reason: n.getReason() });
        }
        for (const d of response.getDiagnosticsList()) {
            diagnostics.push({
                policy: d.getPolicyname(),
                level: LEVEL_FROM_PROTO[d.getEnforcementlevel()],
                urn: d.getUrn() || urn,
                message: d.getMessage(),
                description: d.getDescription(),
            });
        }
    };
    responses.forEach((response, i) => collect(response, remediated[i].resource.urn));
    collect(stackResponse);
    return { diagnostics, notApplicable };
}

/** Remediate, when a policy remediates; the properties are encoded here once for every later request. */
async function remediateOne(pack: RunningPack, resource: RecordedResource): Promise<Remediated> {
    const remediations: Diagnostic[] = [];
    let properties = encodeStruct(resource.inputs);
    if (resource.custom && pack.remediates) {
        const response = await pack
            .request<proto.RemediateResponse>("remediate", encodeAnalyzeRequest(resource, properties))
            .catch((e: PackError) => {
                if (/unimplemented/i.test(e.message)) {
                    return undefined;
                }
                throw e;
            });
        let inputs = resource.inputs;
        for (const remediation of response?.getRemediationsList() ?? []) {
            const remediated = remediation.getProperties();
            if (remediated) {
                inputs = remediated.toJavaScript();
                remediations.push({
                    policy: remediation.getPolicyname(),
                    level: "remediate",
                    urn: resource.urn,
                    message: remediation.getDescription(),
                    description: remediation.getDescription(),
                });
            }
        }
        if (inputs !== resource.inputs) {
            resource = { ...resource, inputs };
            properties = encodeStruct(inputs);
        }
    }
    return { resource, properties, remediations };
}
