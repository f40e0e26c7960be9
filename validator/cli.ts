import * as fs from "fs";
import * as net from "net";
import { CliIo, EXIT, FlagError, numberFlag, parseFlags, reportError, runMain } from "../cli/kit";
import { ResolveEntry } from "./connect";
import { chatFlags, CHAT_FLAGS, CHAT_USAGE } from "./scenario-flags";
import { DEFAULT_ENDPOINTS, LOAD_DEFAULTS, MONITOR_DEFAULTS, VALIDATION_DEFAULTS } from "./defaults";
import { EchoServer, startEchoServer } from "./echo-server";
import { HoldMode } from "./probe";
import { renderReport } from "./report";
import { reportJson, validate } from "./run";
import { checkBaseUrl, resolveEnvironment, Target } from "./targets";
import { METRICS, thresholdsFrom } from "./thresholds";

const D = VALIDATION_DEFAULTS;

export const USAGE = `usage: ws-validate (--url wss://host[:port] | ENVIRONMENT) [options]
       npm run validate -- (--url ... | ENVIRONMENT) [options]

ENVIRONMENT is staging or production (from --stack-outputs, else validator/environments.json),
or local: a built-in echo server on 127.0.0.1, so a first run needs no network.

  --endpoints LIST        comma-separated paths (default ${DEFAULT_ENDPOINTS.join(",")})
  --stack-outputs FILE    JSON from \`pulumi stack output --json\`
  --messages N            echo round trips per endpoint (default ${D.messages})
  --echo / --no-echo      whether the endpoint echoes (default --echo)
  --hold SECONDS          hold one connection this long (default ${D.holdSec}; 0 skips)
  --hold-mode MODE        idle, ping or both side by side (default ${D.holdMode}): both tells an idle
                          timeout from a lifetime cap
  --ping-interval SEC     seconds between pings in ping mode (default ${D.pingIntervalSec})
  --connections N         load: open N concurrent connections ...
  --rate R                ... at R per second (default ${LOAD_DEFAULTS.rate}), held for --hold
  --monitor               probe every --interval seconds for --duration seconds
  --interval SEC          (default ${MONITOR_DEFAULTS.intervalSec})
  --duration SEC          (default ${MONITOR_DEFAULTS.durationSec})
  --threshold EXPR        replace a threshold, such as 'handshake_p95_ms<500' (repeatable)
  --header 'Name: value'  request header (repeatable); \${VAR} in the value reads an
                          environment variable, so tokens stay out of shell history
  --origin ORIGIN         Origin header
  --subprotocol NAME      offer a subprotocol (repeatable)
  --resolve HOST:PORT:ADDRESS  connect to ADDRESS for HOST:PORT (repeatable), as curl does:
                          Host, TLS SNI and the certificate check still use HOST, so a new
                          load balancer is proven by its IP before DNS points at it
  --ca FILE               trust this CA (PEM)
  --insecure              skip certificate verification (warns)
  --handshake-timeout SEC (default ${D.handshakeTimeoutMs / 1000})
  --message-timeout SEC   per echo (default ${D.messageTimeoutMs / 1000})
${CHAT_USAGE}
  --json                  print the full report as JSON
  --report FILE           also write the JSON report to FILE
  --help

metrics for --threshold: ${Object.keys(METRICS).join(", ")}
exit codes: 0 all thresholds met, 1 a threshold breached or a check failed, 2 usage or configuration error`;

function positiveNumber(name: string, value: string | undefined, fallback: number, allowZero = false): number {
    return numberFlag(name, value, fallback, { allowZero });
}

function parseHeaders(values: string[] = [], env: NodeJS.ProcessEnv): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const value of values) {
        const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):\s*(.*)$/.exec(value);
        if (!match) {
            throw new FlagError(`--header ${JSON.stringify(value)}: expected 'Name: value'`);
        }
        headers[match[1]] = match[2].replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
            const found = env[name];
            if (found === undefined) {
                throw new FlagError(`--header ${match[1]}: environment variable ${name} is not set`);
            }
            return found;
        });
    }
    return headers;
}

/** `HOST:PORT:ADDRESS`, ADDRESS an IPv4 or a bracketed IPv6 address, as curl's --resolve takes it. */
function parseResolve(value: string): ResolveEntry {
    const match = /^([^:\s]+):(\d{1,5}):(\[[0-9a-fA-F:.]+\]|[^:\s]+)$/.exec(value);
    const address = match?.[3].replace(/^\[(.*)\]$/, "$1");
    const port = Number(match?.[2]);
    if (!match || !address || !net.isIP(address) || !(port >= 1 && port <= 65535)) {
        throw new FlagError(`--resolve ${JSON.stringify(value)}: expected HOST:PORT:ADDRESS with a port from 1 to 65535 and an IP address, such as chat.example.com:443:203.0.113.7 or chat.example.com:443:[2001:db8::7]`);
    }
    return { host: match[1], port, address };
}

export async function main(argv: string[], io: CliIo): Promise<number> {
    let echoServer: EchoServer | undefined;
    try {
        const { values, positionals } = parseFlags(
            argv,
            {
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
                resolve: { type: "string", multiple: true },
                ca: { type: "string" },
                insecure: { type: "boolean" },
                "handshake-timeout": { type: "string" },
                "message-timeout": { type: "string" },
                json: { type: "boolean" },
                report: { type: "string" },
                help: { type: "boolean" },
                ...CHAT_FLAGS,
            },
            true,
        );
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (positionals.length > 1 || (values.url && positionals.length > 0) || (!values.url && positionals.length === 0)) {
            throw new FlagError("give either --url wss://host[:port] or one environment name (local, staging, production)");
        }
        const holdMode = (values["hold-mode"] ?? D.holdMode) as HoldMode;
        if (!["idle", "ping", "both"].includes(holdMode)) {
            throw new FlagError(`--hold-mode ${JSON.stringify(holdMode)}: allowed: idle, ping, both`);
        }
        const chat = chatFlags(values, io.env);
        // Scenarios and the affinity check replace the default probes unless --endpoints asks for them.
        const endpoints = (values.endpoints ?? (chat.replacesProbes ? "" : DEFAULT_ENDPOINTS.join(","))).split(",").map((e) => e.trim()).filter(Boolean);
        if ((endpoints.length === 0 && !chat.replacesProbes) || endpoints.some((e) => !e.startsWith("/"))) {
            throw new FlagError(`--endpoints ${JSON.stringify(values.endpoints)}: expected paths starting with /, comma-separated`);
        }
        const ca = values.ca === undefined ? undefined : (() => {
            try {
                return fs.readFileSync(values.ca);
            } catch (e) {
                throw new FlagError(`--ca ${values.ca}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
            }
        })();
        const connections = values.connections === undefined ? undefined : Math.floor(positiveNumber("connections", values.connections, 1));
        const options = {
            headers: parseHeaders(values.header, io.env),
            origin: values.origin,
            subprotocols: values.subprotocol,
            ca,
            resolve: (values.resolve ?? []).map(parseResolve),
            insecure: values.insecure === true,
            handshakeTimeoutMs: positiveNumber("handshake-timeout", values["handshake-timeout"], D.handshakeTimeoutMs / 1000) * 1000,
            messages: Math.floor(positiveNumber("messages", values.messages, D.messages, true)),
            echo: !values["no-echo"],
            messageTimeoutMs: positiveNumber("message-timeout", values["message-timeout"], D.messageTimeoutMs / 1000) * 1000,
            holdSec: positiveNumber("hold", values.hold, D.holdSec, true),
            holdMode,
            pingIntervalSec: positiveNumber("ping-interval", values["ping-interval"], D.pingIntervalSec),
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
            load: connections === undefined ? undefined : { connections, rate: positiveNumber("rate", values.rate, LOAD_DEFAULTS.rate) },
            monitor: values.monitor
                ? {
                      intervalSec: positiveNumber("interval", values.interval, MONITOR_DEFAULTS.intervalSec),
                      durationSec: positiveNumber("duration", values.duration, MONITOR_DEFAULTS.durationSec),
                      signal: io.signal,
                      print: (line) => (values.json ? io.err(line) : io.out(line)),
                  }
                : undefined,
            scenario: chat.scenario,
            affinity: chat.affinity,
        });
        const json = reportJson(report);
        if (values.report) {
            fs.writeFileSync(values.report, json + "\n");
        }
        io.out(values.json ? json : renderReport(report));
        return report.exitCode;
    } catch (e) {
        return reportError(io, e, { usage: USAGE });
    } finally {
        await echoServer?.close();
    }
}

/** The command: real streams, and Ctrl-C stops a monitor and prints what it saw. */
export function runCli(): void {
    runMain(main);
}

if (require.main === module) {
    runCli();
}
