/**
 * Entry point of the gcp stand-in (test double for Google only; see standIn.ts). Started by the
 * `pulumi-resource-gcp` launcher that scripts/pulumi-cli.sh installs as resource plugin gcp 9.37.0.
 */
import * as path from "path";
import * as provider from "@pulumi/pulumi/provider";
import { GcpStandIn, ProviderConfig } from "./standIn";

interface ConfigureRequest {
    getArgs(): { toJavaScript(): Record<string, unknown> } | undefined;
    getVariablesMap(): { get(key: string): string | undefined };
}
type Handler = (call: { request: ConfigureRequest }, callback: unknown) => unknown;
// A property, not a method: the original is kept apart and later applied to each server with call().
type GrpcServer = { addService: (service: unknown, implementation: Record<string, Handler>) => void };

/**
 * The SDK's provider server answers Configure itself and does not hand the provider its
 * configuration; this wraps its Configure handler to read `gcp:project` and `gcp:region` first.
 */
function captureConfigure(config: ProviderConfig): void {
    const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] })) as {
        Server: { prototype: GrpcServer };
    };
    const addService = grpc.Server.prototype.addService;
    grpc.Server.prototype.addService = function (this: GrpcServer, service, implementation) {
        const configure = implementation.configure;
        if (typeof configure === "function") {
            implementation.configure = function (this: unknown, call, callback) {
                const args = call.request.getArgs()?.toJavaScript() ?? {};
                const vars = call.request.getVariablesMap();
                const pick = (key: "project" | "region") => {
                    const value = args[key] ?? vars.get(`gcp:config:${key}`) ?? vars.get(`gcp:${key}`);
                    return typeof value === "string" && value !== "" ? value : undefined;
                };
                config.project = pick("project");
                config.region = pick("region");
                return configure.call(this, call, callback);
            };
        }
        return addService.call(this, service, implementation);
    };
}

const config: ProviderConfig = {};
captureConfigure(config);
provider
    .main(new GcpStandIn(config, process.env.GCP_STANDIN_CLOUD_FILE || undefined), process.argv.slice(2))
    .catch((e: unknown) => {
        console.error(`gcp stand-in failed to start: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
    });
