// A Node.js language host for the Pulumi CLI, written for this project because the Go module
// proxy these machines reach refuses Pulumi's own (github.com/pulumi/pulumi/sdk/nodejs/cmd/
// pulumi-language-nodejs/v3 answers "403 Forbidden: This module version is not available").
//
// The CLI starts a language host with the engine's address as its last argument, reads the port
// of its LanguageRuntime gRPC server from the first line of stdout, then asks it to run the
// program (Run) and to start Node.js plugins such as a policy pack (RunPlugin). Both are done the
// way Pulumi's host does them: by running @pulumi/pulumi's own entry points (cmd/run,
// cmd/run-policy-pack, cmd/run-plugin) resolved from the program's folder, so the program and the
// pack run under the SDK's real code; only this small dispatcher is ours.
//
// The protocol facts it relies on were read from the CLI it serves (pkg/v3 v3.274.1,
// resource/plugin/langruntime_plugin.go and plugin.go) and the SDK's cmd/run entry points.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { LanguageRuntimeService } from "@pulumi/pulumi/proto/language_grpc_pb";
import * as lang from "@pulumi/pulumi/proto/language_pb";
import * as plugin from "@pulumi/pulumi/proto/plugin_pb";

/** cmd/run exits with this code once it has reported the program's error to the engine. */
const EXITED_AFTER_LOGGING_ERROR = 32;

const children = new Set<ChildProcess>();

function sdkEntry(programDir: string, entry: "run" | "run-policy-pack" | "run-plugin"): string {
    return require.resolve(`@pulumi/pulumi/cmd/${entry}`, { paths: [programDir] });
}

/** The program's Pulumi.yaml runtime options (typescript, tsconfig, nodeargs), as the CLI sends them. */
function runtimeOptions(info: lang.ProgramInfo | undefined): Record<string, unknown> {
    return info?.getOptions()?.toJavaScript() ?? {};
}

/** Env entries the SDK's entry points read for TypeScript, as Pulumi's host sets them. */
function typescriptEnv(options: Record<string, unknown>): Record<string, string> {
    const env: Record<string, string> = { PULUMI_NODEJS_TYPESCRIPT: String(options.typescript !== false) };
    if (typeof options.tsconfig === "string") {
        env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    }
    return env;
}

function nodeArgs(options: Record<string, unknown>): string[] {
    return typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
}

function track(child: ChildProcess): ChildProcess {
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
}

/** The version of the @pulumi/pulumi this host runs with, which the CLI shows as the host's own. */
function sdkVersion(): string {
    const manifest = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as {
        version: string;
    };
    return manifest.version;
}

/** Resource plugins the program depends on: its direct dependencies whose package.json says `pulumi.resource`. */
function requiredPlugins(programDir: string): plugin.PluginDependency[] {
    let manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    try {
        manifest = JSON.parse(fs.readFileSync(path.join(programDir, "package.json"), "utf8")) as typeof manifest;
    } catch {
        return [];
    }
    const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    const found: plugin.PluginDependency[] = [];
    for (const name of names) {
        let pkg: {
            version?: string;
            pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
        };
        try {
            pkg = JSON.parse(
                fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [programDir] }), "utf8"),
            ) as typeof pkg;
        } catch {
            continue;
        }
        if (pkg.pulumi?.resource) {
            const dependency = new plugin.PluginDependency();
            dependency.setName(pkg.pulumi.name ?? name.replace(/^@pulumi\//, ""));
            dependency.setKind("resource");
            dependency.setVersion(pkg.pulumi.version ?? pkg.version ?? "");
            dependency.setServer(pkg.pulumi.server ?? "");
            found.push(dependency);
        }
    }
    return found;
}

function run(engineAddress: string, request: lang.RunRequest): Promise<lang.RunResponse> {
    const info = request.getInfo();
    const programDir = info?.getProgramDirectory() || request.getPwd();
    const options = runtimeOptions(info);
    const config = Object.fromEntries(request.getConfigMap().toArray());
    const args = [
        ...nodeArgs(options),
        sdkEntry(programDir, "run"),
        `--monitor=${request.getMonitorAddress()}`,
        `--engine=${engineAddress}`,
        `--project=${request.getProject()}`,
        `--stack=${request.getStack()}`,
        `--pwd=${request.getPwd()}`,
        `--parallel=${request.getParallel()}`,
        ...(request.getOrganization() ? [`--organization=${request.getOrganization()}`] : []),
        ...(info?.getRootDirectory() ? [`--root-directory=${info.getRootDirectory()}`] : []),
        ...(request.getDryrun() ? ["--dry-run"] : []),
        info?.getEntryPoint() || request.getProgram() || ".",
        ...request.getArgsList(),
    ];
    const child = track(
        spawn(process.execPath, args, {
            cwd: request.getPwd() || programDir,
            env: {
                ...process.env,
                ...typescriptEnv(options),
                PULUMI_CONFIG: JSON.stringify(config),
                PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(request.getConfigsecretkeysList()),
            },
            // The program's own output goes where the CLI reads this host's output.
            stdio: ["ignore", "inherit", "inherit"],
        }),
    );
    return new Promise((resolve) => {
        const response = new lang.RunResponse();
        child.once("error", (e) => resolve(response.setError(`could not start node for the program: ${e.message}`)));
        child.once("exit", (code, signal) => {
            if (code === EXITED_AFTER_LOGGING_ERROR) {
                response.setBail(true);
            } else if (code !== 0) {
                response.setError(
                    signal ? `the program was killed by ${signal}` : `Program exited with non-zero exit code: ${code}`,
                );
            }
            resolve(response);
        });
    });
}

/** run-policy-pack takes the engine's address, then the pack; run-plugin takes the plugin, then its arguments. */
function pluginArgs(entry: "run-policy-pack" | "run-plugin", args: string[], program: string): string[] {
    return entry === "run-policy-pack" ? [...args, program] : [program, ...args];
}

function runPlugin(call: grpc.ServerWritableStream<lang.RunPluginRequest, lang.RunPluginResponse>): void {
    const request = call.request;
    const info = request.getInfo();
    const programDir = info?.getProgramDirectory() || request.getPwd();
    const options = runtimeOptions(info);
    const entry = request.getKind() === "analyzer" ? "run-policy-pack" : "run-plugin";
    const env = Object.fromEntries(
        request.getEnvList().map((entry) => {
            const eq = entry.indexOf("=");
            return [entry.slice(0, eq), entry.slice(eq + 1)];
        }),
    );
    let child: ChildProcess;
    try {
        child = track(
            spawn(
                process.execPath,
                [
                    ...nodeArgs(options),
                    sdkEntry(programDir, entry),
                    ...pluginArgs(entry, request.getArgsList(), info?.getEntryPoint() || "."),
                ],
                {
                    cwd: programDir,
                    env: { ...(request.getEnvList().length > 0 ? env : process.env), ...typescriptEnv(options) },
                    stdio: ["ignore", "pipe", "pipe"],
                },
            ),
        );
    } catch (e) {
        call.destroy(e as Error);
        return;
    }
    child.stdout!.on("data", (chunk: Buffer) => call.write(new lang.RunPluginResponse().setStdout(chunk)));
    child.stderr!.on("data", (chunk: Buffer) => call.write(new lang.RunPluginResponse().setStderr(chunk)));
    // The engine ends the stream when it is done with the plugin: the plugin goes with it.
    call.on("cancelled", () => child.kill());
    child.once("error", (e) => call.destroy(e));
    child.once("close", (code) => {
        call.write(new lang.RunPluginResponse().setExitcode(code ?? 1));
        call.end();
    });
}

/**
 * InstallDependencies: `pulumi package add` asks it for a component package's folder before it
 * starts the package. This host installs nothing itself: the project's dependencies come from
 * `npm ci` at the repository root, and a folder that cannot resolve @pulumi/pulumi is refused
 * with the command that fixes it, instead of a provider that fails to start later.
 */
function installDependencies(
    call: grpc.ServerWritableStream<lang.InstallDependenciesRequest, lang.InstallDependenciesResponse>,
): void {
    const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory();
    try {
        const sdk = require.resolve("@pulumi/pulumi/package.json", { paths: [dir] });
        call.write(
            new lang.InstallDependenciesResponse().setStdout(
                Buffer.from(`dependencies of ${dir} already installed (@pulumi/pulumi from ${path.dirname(sdk)})\n`),
            ),
        );
        call.end();
    } catch {
        call.destroy(
            Object.assign(
                new Error(
                    `the dependencies of ${dir} are not installed: run npm ci in the repository that holds it, then try again`,
                ),
                { code: grpc.status.FAILED_PRECONDITION },
            ),
        );
    }
}

function main(argv: string[]): void {
    const engineAddress = argv.filter((a) => !a.startsWith("-")).pop() ?? "";
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(LanguageRuntimeService, {
        getPluginInfo: (
            _call: grpc.ServerUnaryCall<Empty, plugin.PluginInfo>,
            callback: grpc.sendUnaryData<plugin.PluginInfo>,
        ) => {
            callback(null, new plugin.PluginInfo().setVersion(sdkVersion()));
        },
        getRequiredPlugins: (
            call: grpc.ServerUnaryCall<lang.GetRequiredPluginsRequest, lang.GetRequiredPluginsResponse>,
            callback: grpc.sendUnaryData<lang.GetRequiredPluginsResponse>,
        ) => {
            const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getPwd();
            callback(null, new lang.GetRequiredPluginsResponse().setPluginsList(requiredPlugins(dir)));
        },
        run: (
            call: grpc.ServerUnaryCall<lang.RunRequest, lang.RunResponse>,
            callback: grpc.sendUnaryData<lang.RunResponse>,
        ) => {
            run(engineAddress, call.request).then(
                (response) => callback(null, response),
                (e: Error) => callback(e, null),
            );
        },
        runPlugin,
        installDependencies,
    });
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`pulumi-language-nodejs: cannot listen: ${err.message}\n`);
            process.exit(1);
        }
        process.stdout.write(`${port}\n`);
    });
    const stop = () => {
        for (const child of children) {
            child.kill();
        }
        server.forceShutdown();
        process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    watchParent(stop);
}

/**
 * The CLI that started this host may die without a word (kill -9): the host then belongs to
 * init (or a subreaper) and nobody will ever ask it to stop, so it stops itself, with the program
 * and plugins it runs. A poll, because no event says the parent is gone.
 */
function watchParent(stop: () => void): void {
    const parent = process.ppid;
    const timer = setInterval(() => {
        if (process.ppid !== parent) {
            stop();
        }
    }, 1000);
    timer.unref();
}

main(process.argv.slice(2));
