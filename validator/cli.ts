import * as fs from "fs";
import * as net from "net";
import {
    checkOutputPath,
    CliIo,
    EXIT,
    FlagError,
    numberFlag,
    Painter,
    painter,
    parseFlags,
    Progress,
    reportError,
    runMain,
    version,
    writeOutputFile,
} from "../cli/kit";
import {
    ResolveEntry,
    DEFAULT_ENDPOINTS,
    LOAD_DEFAULTS,
    MONITOR_DEFAULTS,
    VALIDATION_DEFAULTS,
    EchoServer,
    startEchoServer,
    HoldMode,
    checkBaseUrl,
    resolveEnvironment,
    Target,
} from "./core";
import { chatFlags, CHAT_FLAGS, CHAT_USAGE } from "./scenario";
import { renderReport, reportJson, METRICS, thresholdsFrom } from "./report";
import { validate } from "./run";
import { securityFlags, SECURITY_FLAGS, SECURITY_USAGE } from "./security-flags";

const D = VALIDATION_DEFAULTS;

export const USAGE = `usage: ws-validate (--url wss://host[:port][/path] | ENVIRONMENT) [options]
       npm run -s validate -- (--url ... | ENVIRONMENT) [options]

Proves a live endpoint holds WebSockets: handshake, echo round trips and a long hold per
endpoint, optionally load and a monitor, judged against thresholds.
ENVIRONMENT is staging or production (from --stack-outputs, else validator/environments.json),
or local: a built-in echo server on 127.0.0.1, so a first run needs no network.

options:
      --url URL               base URL; a path in it (wss://host/ws) is the one endpoint probed
      --endpoints LIST        comma-separated paths (default ${DEFAULT_ENDPOINTS.join(",")})
      --stack-outputs FILE    JSON from \`pulumi stack output --json\` (staging, production)
      --messages N            echo round trips per endpoint (default ${D.messages})
      --echo / --no-echo      whether the endpoint echoes (default --echo)
      --hold SECONDS          hold one connection this long (default ${D.holdSec}; 0 skips)
      --hold-mode MODE        idle, ping or both side by side (default ${D.holdMode}): both tells an
                              idle timeout from a lifetime cap
      --ping-interval SEC     seconds between pings in ping mode (default ${D.pingIntervalSec})
      --connections N         load: open N concurrent connections ...
      --rate R                ... at R per second (default ${LOAD_DEFAULTS.rate}), held for --hold
      --monitor               probe every --interval seconds for --duration seconds, at once
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
${SECURITY_USAGE}
  -j, --json                  print the full report as JSON (only JSON on stdout)
      --report FILE           also write the JSON report to FILE
      --report-html FILE      also write a self-contained HTML report with charts to FILE
      --no-color              no colour even on a terminal (NO_COLOR=1 does the same)
  -h, --help                  show this help
      --version               print the version

examples:
  ws-validate local
  ws-validate --url wss://staging.chat.example.com --hold 40 --report-html report.html
  ws-validate production --stack-outputs production-outputs.json --monitor --interval 10
  npm run -s validate -- --url ws://127.0.0.1:8080/ws --json > report.json

metrics for --threshold: ${Object.keys(METRICS).join(", ")}
Ctrl-C or SIGTERM stops at the next safe point and prints what was measured (exit 130); a
second one stops waiting for handshakes in flight. Progress goes to stderr on a terminal.
exit codes: 0 all thresholds met, 1 a threshold breached or a check failed, 2 usage or
configuration error, 130 interrupted`;

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
        throw new FlagError(
            `--resolve ${JSON.stringify(value)}: expected HOST:PORT:ADDRESS with a port from 1 to 65535 and an IP address, such as chat.example.com:443:203.0.113.7 or chat.example.com:443:[2001:db8::7]`,
        );
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
                json: { type: "boolean", short: "j" },
                report: { type: "string" },
                "report-html": { type: "string" },
                "no-color": { type: "boolean" },
                help: { type: "boolean", short: "h" },
                version: { type: "boolean" },
                ...CHAT_FLAGS,
                ...SECURITY_FLAGS,
            },
            true,
        );
        if (values.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (values.version) {
            io.out(`ws-validate ${version()}`);
            return EXIT.ok;
        }
        if (
            positionals.length > 1 ||
            (values.url && positionals.length > 0) ||
            (!values.url && positionals.length === 0)
        ) {
            throw new FlagError(
                "give either --url wss://host[:port] or one environment name (local, staging, production)",
            );
        }
        if (values["stack-outputs"] !== undefined && (values.url !== undefined || positionals[0] === "local")) {
            throw new FlagError(
                `--stack-outputs ${values["stack-outputs"]}: only names the host for staging or production; ${values.url !== undefined ? "--url gives the host itself" : "local uses the built-in echo server"}, so drop one of them`,
            );
        }
        const holdMode = (values["hold-mode"] ?? D.holdMode) as HoldMode;
        if (!["idle", "ping", "both"].includes(holdMode)) {
            throw new FlagError(`--hold-mode ${JSON.stringify(holdMode)}: allowed: idle, ping, both`);
        }
        const chat = chatFlags(values, io.env);
        // A path in --url is the endpoint to probe; with --endpoints too it would be ambiguous.
        const urlPath = values.url === undefined ? undefined : urlEndpoint(values.url);
        if (urlPath !== undefined && values.endpoints !== undefined) {
            throw new FlagError(
                `--url ${values.url} has a path (${urlPath}) and --endpoints is set too; give the base URL with --endpoints, or the one path in --url`,
            );
        }
        const security = securityFlags(
            values,
            urlPath ?? values.endpoints?.split(",")[0]?.trim() ?? DEFAULT_ENDPOINTS[0],
        );
        // Scenarios, the affinity check and the security checks replace the default probes unless --endpoints asks for them.
        const defaultEndpoints = chat.replacesProbes || security.replacesProbes ? "" : DEFAULT_ENDPOINTS.join(",");
        const endpoints =
            urlPath !== undefined
                ? [urlPath]
                : (values.endpoints ?? defaultEndpoints)
                      .split(",")
                      .map((e) => e.trim())
                      .filter(Boolean);
        if (
            (endpoints.length === 0 && !chat.replacesProbes && !security.replacesProbes) ||
            endpoints.some((e) => !e.startsWith("/"))
        ) {
            throw new FlagError(
                `--endpoints ${JSON.stringify(values.endpoints)}: expected paths starting with /, comma-separated`,
            );
        }
        const ca =
            values.ca === undefined
                ? undefined
                : (() => {
                      try {
                          return fs.readFileSync(values.ca);
                      } catch (e) {
                          throw new FlagError(
                              `--ca ${values.ca}: cannot read it (${(e as NodeJS.ErrnoException).code})`,
                          );
                      }
                  })();
        const connections =
            values.connections === undefined
                ? undefined
                : Math.floor(positiveNumber("connections", values.connections, 1));
        const options = {
            headers: parseHeaders(values.header, io.env),
            origin: values.origin,
            subprotocols: values.subprotocol,
            ca,
            resolve: (values.resolve ?? []).map(parseResolve),
            insecure: values.insecure === true,
            handshakeTimeoutMs:
                positiveNumber("handshake-timeout", values["handshake-timeout"], D.handshakeTimeoutMs / 1000) * 1000,
            messages: Math.floor(positiveNumber("messages", values.messages, D.messages, true)),
            echo: !values["no-echo"],
            messageTimeoutMs:
                positiveNumber("message-timeout", values["message-timeout"], D.messageTimeoutMs / 1000) * 1000,
            holdSec: positiveNumber("hold", values.hold, D.holdSec, true),
            holdMode,
            pingIntervalSec: positiveNumber("ping-interval", values["ping-interval"], D.pingIntervalSec),
            thresholds: thresholdsFrom(values.threshold ?? []),
        };
        const load =
            connections === undefined
                ? undefined
                : { connections, rate: positiveNumber("rate", values.rate, LOAD_DEFAULTS.rate) };
        const monitorTimes = values.monitor
            ? {
                  intervalSec: positiveNumber("interval", values.interval, MONITOR_DEFAULTS.intervalSec),
                  durationSec: positiveNumber("duration", values.duration, MONITOR_DEFAULTS.durationSec),
              }
            : undefined;
        // Output paths are checked before any work: a run must not end in "cannot write".
        if (values.report !== undefined) {
            checkOutputPath("report", values.report);
        }
        if (values["report-html"] !== undefined) {
            checkOutputPath("report-html", values["report-html"]);
        }
        if (options.insecure) {
            io.err(
                "warning: --insecure: certificates are not verified; anyone on the path can read and change this traffic",
            );
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

        const progress = new Progress(values.json ? undefined : io.status);
        const report = await validate({
            ...options,
            baseUrl: target.url,
            source: target.source,
            endpoints,
            load,
            monitor: monitorTimes
                ? { ...monitorTimes, print: (line) => (values.json ? io.err(line) : io.out(line)) }
                : undefined,
            signal: io.signal,
            force: io.force,
            onPhase: (name, detail) => progress.phase(name, detail),
            scenario: chat.scenario,
            affinity: chat.affinity,
            security,
        }).finally(() => progress.finish());
        const paint = painter(io.color === true && !values["no-color"] && !values.json);
        io.out(values.json ? reportJson(report) : colourReport(renderReport(report), paint));
        // A write that fails now is reported; the run's verdict stands.
        const writeFailures = [
            values.report === undefined
                ? undefined
                : writeOutputFile("report", values.report, reportJson(report) + "\n"),
            // Loaded only when asked for, as the monitor and the scenario runner are.
            values["report-html"] === undefined
                ? undefined
                : writeOutputFile(
                      "report-html",
                      values["report-html"],
                      (await import("./report/html")).renderReportHtml(report),
                  ),
        ].filter((f): f is string => f !== undefined);
        for (const failure of writeFailures) {
            io.err(`error: ${failure}`);
        }
        return report.exitCode;
    } catch (e) {
        return reportError(io, e, { usage: USAGE });
    } finally {
        await echoServer?.close();
    }
}

/** The path of a --url (with its query), or undefined when it has none beyond "/". */
function urlEndpoint(url: string): string | undefined {
    try {
        const parsed = new URL(url);
        return parsed.pathname === "/" && parsed.search === "" ? undefined : `${parsed.pathname}${parsed.search}`;
    } catch {
        return undefined;
    }
}

/** PASS green, FAIL red, on a terminal that takes colour. */
function colourReport(text: string, paint: Painter): string {
    return text
        .replace(/^verdict: PASS.*$/m, (line) => paint.green(line))
        .replace(/^verdict: (FAIL|INTERRUPTED).*$/m, (line) => paint.red(line))
        .replace(/^( {4})FAIL /gm, (_, indent: string) => `${indent}${paint.red("FAIL")} `);
}

/** The command: real streams; Ctrl-C or SIGTERM stops the run and prints what it saw. */
export function runCli(): void {
    runMain(main);
}

if (require.main === module) {
    runCli();
}
