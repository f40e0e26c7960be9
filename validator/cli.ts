import * as fs from "fs";
import { parseArgs } from "util";
import { closeAll } from "./connect";
import { DEFAULT_ENDPOINTS, EchoServer, startEchoServer } from "./echoServer";
import { HoldMode } from "./probe";
import { processIo } from "./processIo";
import { renderReport } from "./report";
import { reportJson, validate } from "./run";
import { checkBaseUrl, resolveEnvironment, Target, TargetError } from "./targets";
import { METRICS, ThresholdError, thresholdsFrom } from "./thresholds";

export const USAGE = `usage: ws-validate (--url wss://host[:port] | ENVIRONMENT) [options]
       npm run validate -- (--url ... | ENVIRONMENT) [options]

ENVIRONMENT is staging or production (from --stack-outputs, else validator/environments.json),
or local: a built-in echo server on 127.0.0.1, so a first run needs no network.

  --endpoints LIST        comma-separated paths (default ${DEFAULT_ENDPOINTS.join(",")})
  --stack-outputs FILE    JSON from \`pulumi stack output --json\`
  --messages N            echo round trips per endpoint (default 10)
  --echo / --no-echo      whether the endpoint echoes (default --echo)
  --hold SECONDS          hold one connection this long (default 40; 0 skips)
  --hold-mode MODE        idle, ping or both side by side (default both): both tells an idle
                          timeout from a lifetime cap
  --ping-interval SEC     seconds between pings in ping mode (default 5)
  --connections N         load: open N concurrent connections ...
  --rate R                ... at R per second (default 50), held for --hold
  --monitor               probe every --interval seconds for --duration seconds
  --interval SEC          (default 10)
  --duration SEC          (default 600)
  --threshold EXPR        replace a threshold, such as 'handshake_p95_ms<500' (repeatable)
  --header 'Name: value'  request header (repeatable); \${VAR} in the value reads an
                          environment variable, so tokens stay out of shell history
  --origin ORIGIN         Origin header
  --subprotocol NAME      offer a subprotocol (repeatable)
  --ca FILE               trust this CA (PEM)
  --insecure              skip certificate verification (warns)
  --handshake-timeout SEC (default 10)
  --message-timeout SEC   per echo (default 5)
  --json                  print the full report as JSON
  --report FILE           also write the JSON report to FILE
  --help

metrics for --threshold: ${Object.keys(METRICS).join(", ")}
exit codes: 0 all thresholds met, 1 a threshold breached or a check failed, 2 usage or configuration error`;

class UsageError extends Error {}

function positiveNumber(name: string, value: string | undefined, fallback: number, allowZero = false): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
        throw new UsageError(`--${name} ${JSON.stringify(value)}: expected a ${allowZero ? "non-negative" : "positive"} number`);
    }
    return n;
}

function parseHeaders(values: string[] = [], env: NodeJS.ProcessEnv): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const value of values) {
        const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):\s*(.*)$/.exec(value);
        if (!match) {
            throw new UsageError(`--header ${JSON.stringify(value)}: expected 'Name: value'`);
        }
        headers[match[1]] = match[2].replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
            const found = env[name];
            if (found === undefined) {
                throw new UsageError(`--header ${match[1]}: environment variable ${name} is not set`);
            }
            return found;
        });
    }
    return headers;
}

export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly env: NodeJS.ProcessEnv;
    /** Aborted on Ctrl-C. */
    readonly signal?: AbortSignal;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
    let echoServer: EchoServer | undefined;
    try {
        const { values, positionals } = (() => {
            try {
                return parseArgs({
                    args: argv,
                    allowPositionals: true,
                    strict: true,
                    options: {
                        url: { type: "string" },
                        endpoints: { type: "string" },
                        "stack-outputs": { type: "string" },
                        messages: { type: "string" },
                        echo: { type: "boolean" },
                        "no-echo": { type: "boolean" },
                        hold: { type: "string" },
                        "hold-mode": { type: "string" },
                        "ping-interval": { type: "string" },
                        connections: { type: "string" },
                        rate: { type: "string" },
                        monitor: { type: "boolean" },
                        interval: { type: "string" },
                        duration: { type: "string" },
                        threshold: { type: "string", multiple: true },
                        header: { type: "string", multiple: true },
                        origin: { type: "string" },
                        subprotocol: { type: "string", multiple: true },
                        ca: { type: "string" },
                        insecure: { type: "boolean" },
                        "handshake-timeout": { type: "string" },
                        "message-timeout": { type: "string" },
                        json: { type: "boolean" },
                        report: { type: "string" },
                        help: { type: "boolean" },
                    },
                });
            } catch (e) {
                throw new UsageError((e as Error).message);
            }
        })();
        if (values.help) {
            io.out(USAGE);
            return 0;
        }
        if (positionals.length > 1 || (values.url && positionals.length > 0) || (!values.url && positionals.length === 0)) {
            throw new UsageError("give either --url wss://host[:port] or one environment name (local, staging, production)");
        }
        const holdMode = (values["hold-mode"] ?? "both") as HoldMode;
        if (!["idle", "ping", "both"].includes(holdMode)) {
            throw new UsageError(`--hold-mode ${JSON.stringify(holdMode)}: allowed: idle, ping, both`);
        }
        const endpoints = (values.endpoints ?? DEFAULT_ENDPOINTS.join(",")).split(",").map((e) => e.trim()).filter(Boolean);
        if (endpoints.length === 0 || endpoints.some((e) => !e.startsWith("/"))) {
            throw new UsageError(`--endpoints ${JSON.stringify(values.endpoints)}: expected paths starting with /, comma-separated`);
        }
        const ca = values.ca === undefined ? undefined : (() => {
            try {
                return fs.readFileSync(values.ca);
            } catch (e) {
                throw new UsageError(`--ca ${values.ca}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
            }
        })();
        const connections = values.connections === undefined ? undefined : Math.floor(positiveNumber("connections", values.connections, 1));
        const options = {
            headers: parseHeaders(values.header, io.env),
            origin: values.origin,
            subprotocols: values.subprotocol,
            ca,
            insecure: values.insecure === true,
            handshakeTimeoutMs: positiveNumber("handshake-timeout", values["handshake-timeout"], 10) * 1000,
            messages: Math.floor(positiveNumber("messages", values.messages, 10, true)),
            echo: !values["no-echo"],
            messageTimeoutMs: positiveNumber("message-timeout", values["message-timeout"], 5) * 1000,
            holdSec: positiveNumber("hold", values.hold, 40, true),
            holdMode,
            pingIntervalSec: positiveNumber("ping-interval", values["ping-interval"], 5),
            thresholds: thresholdsFrom(values.threshold ?? []),
        };
        if (options.insecure) {
            io.err("warning: --insecure: certificates are not verified; anyone on the path can read and change this traffic");
        }

        let target: Target;
        if (values.url) {
            target = { url: checkBaseUrl(values.url, "--url"), source: "--url" };
        } else if (positionals[0] === "local") {
            echoServer = await startEchoServer();
            target = { url: echoServer.url, source: "built-in echo server on 127.0.0.1" };
        } else {
            target = resolveEnvironment(positionals[0], values["stack-outputs"]);
        }

        const report = await validate({
            ...options,
            baseUrl: target.url,
            source: target.source,
            endpoints,
            load: connections === undefined ? undefined : { connections, rate: positiveNumber("rate", values.rate, 50) },
            monitor: values.monitor
                ? {
                      intervalSec: positiveNumber("interval", values.interval, 10),
                      durationSec: positiveNumber("duration", values.duration, 600),
                      signal: io.signal,
                      print: (line) => (values.json ? io.err(line) : io.out(line)),
                  }
                : undefined,
        });
        const json = reportJson(report);
        if (values.report) {
            fs.writeFileSync(values.report, json + "\n");
        }
        io.out(values.json ? json : renderReport(report));
        return report.exitCode;
    } catch (e) {
        if (e instanceof UsageError || e instanceof TargetError || e instanceof ThresholdError) {
            io.err(`error: ${e.message}\n(see --help)`);
            return 2;
        }
        io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
        return 2;
    } finally {
        closeAll();
        await echoServer?.close();
    }
}

/** The command: real streams, and Ctrl-C stops a monitor and prints what it saw. */
export function runCli(): void {
    main(process.argv.slice(2), processIo()).then((code) => process.exit(code));
}

if (require.main === module) {
    runCli();
}
