import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import {
    numericFlag,
    numericFlagReader,
    NumericFlagName,
    checkOutputPath,
    CliIo,
    EXIT,
    FlagError,
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
    MAX_WAIT_SEC,
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
import { securityFlags, SECURITY_FLAGS, SECURITY_USAGE } from "./security-flags";
import { renderReport, Report, reportJson, METRICS, shardJson, thresholdsFrom, writeReportFiles } from "./report";
import { checkAddressFamilies, MAX_LOCAL_ADDRESSES, parseLocalAddresses } from "./local-address";
import { validate } from "./run";

const D = VALIDATION_DEFAULTS;

export const USAGE = `usage: ws-validate (wss://host[:port][/path] | --url URL | ENVIRONMENT) [options]
       ws-validate merge SHARD... [--threshold EXPR] [--report FILE] [--report-html FILE]
       npm run -s validate -- (URL | --url URL | ENVIRONMENT) [options]

Proves a live endpoint holds WebSockets: handshake, echo round trips and a long hold per
endpoint, optionally load and a monitor, judged against thresholds.
ENVIRONMENT is staging or production (from --stack-outputs, else validator/environments.json),
or local: a built-in echo server on 127.0.0.1, so a first run needs no network.

options:
      --url URL               base URL; a path in it (wss://host/ws) is the one endpoint probed;
                              the URL alone as the first argument does the same
      --endpoints LIST        comma-separated paths (default ${DEFAULT_ENDPOINTS.join(",")})
      --stack-outputs FILE    JSON from \`pulumi stack output --json\` (staging, production)
      --messages N            echo round trips per endpoint (default ${D.messages}, up to 100000)
      --echo / --no-echo      whether the endpoint echoes (default --echo)
      --hold SECONDS          hold one connection this long (default ${D.holdSec}; 0 skips; up to ${MAX_WAIT_SEC})
      --probe-hold SECONDS    the endpoint probes' own hold when a load runs (default --hold; 0 skips
                              it, so the load opens at once)
      --hold-mode MODE        idle, ping or both side by side (default ${D.holdMode}): both tells an
                              idle timeout from a lifetime cap
      --ping-interval SEC     seconds between pings in ping mode (default ${D.pingIntervalSec}, 0.01 to 3600)
      --max-missed-pongs N    fail a ping-mode hold (PING_TIMEOUT) once N pings in a row got no pong
                              by the next ping (default ${D.maxMissedPongs}, 1 to 100)
      --connections N         load: open N concurrent connections (1 to 1000000) ...
      --rate R                ... at R per second (default ${LOAD_DEFAULTS.rate}, 0.01 to 100000), held for --hold
      --monitor               probe every --interval seconds for --duration seconds, at once
      --interval SEC          (default ${MONITOR_DEFAULTS.intervalSec}, 0.05 to 3600)
      --duration SEC          (default ${MONITOR_DEFAULTS.durationSec}, up to ${MAX_WAIT_SEC})
      --threshold EXPR        replace a threshold, such as 'handshake_p95_ms<500' (repeatable)
      --header 'Name: value'  request header (repeatable); \${VAR} in the value reads an
                              environment variable, so tokens stay out of shell history
      --origin ORIGIN         Origin header: scheme://host[:port], or null
      --subprotocol NAME      offer a subprotocol (repeatable)
      --resolve HOST:PORT:ADDRESS  connect to ADDRESS for HOST:PORT (repeatable), as curl does:
                              Host, TLS SNI and the certificate check still use HOST, so a new
                              load balancer is proven by its IP before DNS points at it
      --ca FILE               trust the CA certificates in this PEM file
      --insecure              skip certificate verification (warns)
      --handshake-timeout SEC (default ${D.handshakeTimeoutMs / 1000}, 0.01 to 3600)
      --message-timeout SEC   per echo (default ${D.messageTimeoutMs / 1000}, 0.01 to 3600)
${CHAT_USAGE}
${SECURITY_USAGE}
  -j, --json                  print the full report as JSON (only JSON on stdout)
      --report FILE           also write the JSON report to FILE
      --report-html FILE      also write a self-contained HTML report with charts to FILE
      --shard-out FILE        also write this run's mergeable result (counters, failure codes,
                              latency histograms) for \`ws-validate merge\`
      --local-address LIST    load: source addresses the connections take in turn (a.b.c.d,
                              a.b.c.d-a.b.c.e or a.b.c.d/nn, comma-separated; up to ${MAX_LOCAL_ADDRESSES}),
                              each one another ~28,000 ephemeral ports to the same target
      --no-color              no colour even on a terminal (NO_COLOR=1 does the same)
  -h, --help                  show this help
      --version               print the version

examples:
  ws-validate local
  ws-validate wss://staging.chat.example.com/ws
  ws-validate --url wss://staging.chat.example.com --hold 40 --report-html report.html
  ws-validate production --stack-outputs production-outputs.json --monitor --interval 10
  npm run -s validate -- --url ws://127.0.0.1:8080/ws --json > report.json

metrics for --threshold: ${Object.keys(METRICS).join(", ")}
Ctrl-C or SIGTERM stops at the next safe point and prints what was measured (exit 130); a
second one stops waiting for handshakes in flight. Progress goes to stderr on a terminal.
exit codes: 0 all thresholds met, 1 a threshold breached or a check failed, 2 usage or
configuration error, 130 interrupted`;

const SECONDS = { unit: "seconds", max: 3600 } as const;

/**
 * Every flag of the command, one entry each: util.parseArgs's spec and, for a number, its default
 * and bounds (its help line is in USAGE). A flag added here is parsed, and a numeric one checked
 * against its bounds before any work, by the functions below without more changes.
 */
const FLAGS = {
    url: { type: "string" },
    endpoints: { type: "string" },
    "stack-outputs": { type: "string" },
    messages: numericFlag(D.messages, { min: 0, max: 100_000, integer: true, unit: "messages" }),
    echo: { type: "boolean" },
    "no-echo": { type: "boolean" },
    hold: numericFlag(D.holdSec, { min: 0, max: MAX_WAIT_SEC, unit: "seconds" }),
    "probe-hold": numericFlag(D.holdSec, { min: 0, max: MAX_WAIT_SEC, unit: "seconds" }),
    "hold-mode": { type: "string" },
    "ping-interval": numericFlag(D.pingIntervalSec, { ...SECONDS, min: 0.01 }),
    "max-missed-pongs": numericFlag(D.maxMissedPongs, { min: 1, max: 100, integer: true, unit: "pings" }),
    connections: numericFlag(1, { min: 1, max: 1_000_000, integer: true, unit: "connections" }),
    rate: numericFlag(LOAD_DEFAULTS.rate, { min: 0.01, max: 100_000, unit: "connections per second" }),
    monitor: { type: "boolean" },
    interval: numericFlag(MONITOR_DEFAULTS.intervalSec, { ...SECONDS, min: 0.05 }),
    duration: numericFlag(MONITOR_DEFAULTS.durationSec, { min: 0.1, max: MAX_WAIT_SEC, unit: "seconds" }),
    threshold: { type: "string", multiple: true },
    header: { type: "string", multiple: true },
    origin: { type: "string" },
    subprotocol: { type: "string", multiple: true },
    resolve: { type: "string", multiple: true },
    ca: { type: "string" },
    insecure: { type: "boolean" },
    "handshake-timeout": numericFlag(D.handshakeTimeoutMs / 1000, { ...SECONDS, min: 0.01 }),
    "message-timeout": numericFlag(D.messageTimeoutMs / 1000, { ...SECONDS, min: 0.01 }),
    json: { type: "boolean", short: "j" },
    report: { type: "string" },
    "report-html": { type: "string" },
    "no-color": { type: "boolean" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
    "shard-out": { type: "string" },
    "local-address": { type: "string" },
    ...CHAT_FLAGS,
    ...SECURITY_FLAGS,
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

/** A numeric flag's value, its default when absent; outside its bounds a FlagError. */
const numberOf = numericFlagReader(FLAGS);

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

/** An Origin header as a browser sends it (RFC 6454 7.1): "null" or scheme://host[:port], nothing after. */
function parseOrigin(value: string | undefined): string | undefined {
    if (value !== undefined && value !== "null" && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\s]+$/.test(value)) {
        throw new FlagError(
            `--origin ${JSON.stringify(value)}: expected an origin such as https://chat.example.com (scheme, host and an optional port, no path), or null`,
        );
    }
    return value;
}

/** Subprotocol names are HTTP tokens, each offered once (RFC 6455 4.1, item 10). */
function parseSubprotocols(values: string[] | undefined): string[] | undefined {
    for (const [i, name] of (values ?? []).entries()) {
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || values!.indexOf(name) !== i) {
            throw new FlagError(
                `--subprotocol ${JSON.stringify(name)}: ${values!.indexOf(name) !== i ? "offered twice; offer each name once" : "expected a name of letters, digits and !#$%&'*+-.^_`|~ (an HTTP token), such as chat.v2"}`,
            );
        }
    }
    return values;
}

/** The --ca file's certificates: a file that holds none would trust nothing and fail every handshake later. */
function readCa(file: string | undefined): Buffer | undefined {
    if (file === undefined) {
        return undefined;
    }
    let pem: Buffer;
    try {
        pem = fs.readFileSync(file);
    } catch (e) {
        throw new FlagError(`--ca ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
    }
    const blocks = pem.toString("latin1").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const bad = blocks.findIndex((block) => {
        try {
            new X509Certificate(block);
            return false;
        } catch {
            return true;
        }
    });
    if (blocks.length === 0 || bad >= 0) {
        throw new FlagError(
            `--ca ${file}: ${blocks.length === 0 ? "holds no certificate" : `certificate ${bad + 1} cannot be read`}; expected PEM certificates (-----BEGIN CERTIFICATE----- blocks)`,
        );
    }
    return pem;
}

/** What the command line names to probe: a URL (--url or a bare first argument) or an environment. */
interface TargetArg {
    readonly url?: string;
    /** How the URL was given, for its errors and the report. */
    readonly from: string;
    readonly environment?: string;
}

function targetArg(values: Values, positionals: string[]): TargetArg {
    // A URL as the first argument, as wscat and k6 take it.
    const bareUrl = positionals.length === 1 && positionals[0].includes("://") ? positionals[0] : undefined;
    if (positionals.length > 1 || (values.url !== undefined && positionals.length > 0)) {
        throw new FlagError(
            `unexpected argument ${JSON.stringify(positionals[values.url === undefined ? 1 : 0])}: give one URL (--url or the first argument) or one environment name`,
        );
    }
    if (values.url === undefined && positionals.length === 0) {
        throw new FlagError("give either --url wss://host[:port] or one environment name (local, staging, production)");
    }
    const url = values.url ?? bareUrl;
    const target = {
        url,
        from: values.url !== undefined ? "--url" : "URL",
        environment: url ? undefined : positionals[0],
    };
    if (
        values["stack-outputs"] !== undefined &&
        target.environment !== "staging" &&
        target.environment !== "production"
    ) {
        throw new FlagError(
            `--stack-outputs ${values["stack-outputs"]}: only names the host for staging or production; ${url !== undefined ? `the ${target.from} gives the host itself` : "local uses the built-in echo server"}, so drop one of them`,
        );
    }
    return target;
}

/** The path a URL target names, if any; with --endpoints too it would be ambiguous. */
function urlPathOf(values: Values, target: TargetArg): string | undefined {
    const urlPath = target.url === undefined ? undefined : urlEndpoint(target.url);
    if (urlPath !== undefined && values.endpoints !== undefined) {
        throw new FlagError(
            `${target.from} ${target.url} has a path (${urlPath}) and --endpoints is set too; give the base URL with --endpoints, or the one path in the URL`,
        );
    }
    return urlPath;
}

/**
 * The endpoints to probe: the URL's path, --endpoints, or the defaults (none when a chat or
 * security check replaces them).
 */
function endpointsOf(values: Values, urlPath: string | undefined, replacesProbes: boolean): string[] {
    // Scenarios, the affinity check and the security checks replace the default probes unless --endpoints asks for them.
    const defaultEndpoints = replacesProbes ? "" : DEFAULT_ENDPOINTS.join(",");
    const endpoints =
        urlPath !== undefined
            ? [urlPath]
            : (values.endpoints ?? defaultEndpoints)
                  .split(",")
                  .map((e) => e.trim())
                  .filter(Boolean);
    if ((endpoints.length === 0 && !replacesProbes) || endpoints.some((e) => !e.startsWith("/"))) {
        throw new FlagError(
            `--endpoints ${JSON.stringify(values.endpoints)}: expected paths starting with /, comma-separated`,
        );
    }
    return endpoints;
}

/** How each connection is made and each probe is run, from the flags. */
function probeOptionsOf(values: Values, env: NodeJS.ProcessEnv) {
    const holdMode = (values["hold-mode"] ?? D.holdMode) as HoldMode;
    if (!["idle", "ping", "both"].includes(holdMode)) {
        throw new FlagError(`--hold-mode ${JSON.stringify(holdMode)}: allowed: idle, ping, both`);
    }
    return {
        headers: parseHeaders(values.header, env),
        origin: parseOrigin(values.origin),
        subprotocols: parseSubprotocols(values.subprotocol),
        ca: readCa(values.ca),
        resolve: (values.resolve ?? []).map(parseResolve),
        insecure: values.insecure === true,
        handshakeTimeoutMs: numberOf(values, "handshake-timeout") * 1000,
        messages: numberOf(values, "messages"),
        echo: !values["no-echo"],
        messageTimeoutMs: numberOf(values, "message-timeout") * 1000,
        holdSec: numberOf(values, "hold"),
        holdMode,
        pingIntervalSec: numberOf(values, "ping-interval"),
        maxMissedPongs: numberOf(values, "max-missed-pongs"),
        thresholds: thresholdsFrom(values.threshold ?? []),
    };
}

/** Output paths are checked before any work: a run must not end in "cannot write". */
function checkOutputs(values: Values): void {
    if (values.report !== undefined) {
        checkOutputPath("report", values.report);
    }
    if (values["report-html"] !== undefined) {
        checkOutputPath("report-html", values["report-html"]);
    }
    const shardOut = values["shard-out"];
    if (shardOut !== undefined) {
        checkOutputPath("shard-out", shardOut);
        const clash = (["report", "report-html"] as const).find(
            (flag) => values[flag] !== undefined && path.resolve(values[flag]) === path.resolve(shardOut),
        );
        if (clash) {
            throw new FlagError(`--shard-out and --${clash} are both ${shardOut}: give each its own file`);
        }
    }
    if (
        values.report !== undefined &&
        values["report-html"] !== undefined &&
        path.resolve(values.report) === path.resolve(values["report-html"])
    ) {
        throw new FlagError(
            `--report and --report-html are both ${values.report}: the second would overwrite the first; give each its own file`,
        );
    }
}

/** Everything the flags ask for, checked before any work. */
function planRun(values: Values, positionals: string[], env: NodeJS.ProcessEnv) {
    // Every number given is checked, also one its mode does not use (--rate without --connections).
    for (const [name, spec] of Object.entries(FLAGS)) {
        if ("bounds" in spec) {
            numberOf(values, name as NumericFlagName<typeof FLAGS>);
        }
    }
    const target = targetArg(values, positionals);
    const chat = chatFlags(values, env);
    const urlPath = urlPathOf(values, target);
    // The security checks run on the first endpoint: the URL's path, the first of --endpoints, or /ws.
    const security = securityFlags(values, urlPath ?? values.endpoints?.split(",")[0]?.trim() ?? DEFAULT_ENDPOINTS[0]);
    const endpoints = endpointsOf(values, urlPath, chat.replacesProbes || security.replacesProbes);
    const options = probeOptionsOf(values, env);
    const localAddresses = parseLocalAddresses(values["local-address"]);
    if (localAddresses && values.connections === undefined) {
        throw new FlagError("--local-address spreads a load's connections; give --connections N too");
    }
    const load =
        values.connections === undefined
            ? undefined
            : { connections: numberOf(values, "connections"), rate: numberOf(values, "rate"), localAddresses };
    if (values["probe-hold"] !== undefined && values.connections === undefined) {
        throw new FlagError("--probe-hold sets the endpoint probes' hold beside a load's; give --connections N too");
    }
    const monitorTimes = values.monitor
        ? { intervalSec: numberOf(values, "interval"), durationSec: numberOf(values, "duration") }
        : undefined;
    checkOutputs(values);
    const probeHoldSec = values["probe-hold"] === undefined ? undefined : numberOf(values, "probe-hold");
    return { target, chat, security, endpoints, options: { ...options, probeHoldSec }, load, monitorTimes };
}
type Plan = ReturnType<typeof planRun>;

/** The base URL to probe; for local, a built-in echo server that `started` is given to close. */
async function openTarget(
    target: TargetArg,
    stackOutputs: string | undefined,
    started: (server: EchoServer) => void,
): Promise<Target> {
    if (target.url !== undefined) {
        return { url: checkBaseUrl(target.url, target.from), source: target.from };
    }
    if (target.environment === "local") {
        const echoServer = await startEchoServer();
        started(echoServer);
        return { url: echoServer.url, source: "built-in echo server on 127.0.0.1" };
    }
    return resolveEnvironment(target.environment!, stackOutputs);
}

async function runPlan(plan: Plan, target: Target, values: Values, io: CliIo): Promise<Report> {
    const progress = new Progress(values.json ? undefined : io.status);
    return validate({
        ...plan.options,
        baseUrl: target.url,
        source: target.source,
        endpoints: plan.endpoints,
        load: plan.load,
        monitor: plan.monitorTimes
            ? { ...plan.monitorTimes, print: (line) => (values.json ? io.err(line) : io.out(line)) }
            : undefined,
        signal: io.signal,
        force: io.force,
        onPhase: (name, detail) => progress.phase(name, detail),
        scenario: plan.chat.scenario,
        affinity: plan.chat.affinity,
        security: plan.security,
    }).finally(() => progress.finish());
}

/** Prints the report and writes its files; a write that fails now is reported, the verdict stands. */
function printReport(report: Report, values: Values, io: CliIo): void {
    const paint = painter(io.color === true && !values["no-color"] && !values.json);
    io.out(values.json ? reportJson(report) : colourReport(renderReport(report), paint));
    const writeFailures = writeReportFiles(report, values);
    if (values["shard-out"] !== undefined && report.tally) {
        const failure = writeOutputFile(
            "shard-out",
            values["shard-out"],
            shardJson(report.tally, {
                target: report.target.url,
                startedAt: report.startedAt,
                durationSec: report.durationSec,
            }) + "\n",
        );
        if (failure) {
            writeFailures.push(failure);
        }
    }
    for (const failure of writeFailures) {
        io.err(`error: ${failure}`);
    }
}

export async function main(argv: string[], io: CliIo): Promise<number> {
    if (argv[0] === "merge") {
        return (await import("./merge")).mergeMain(argv.slice(1), io);
    }
    let echoServer: EchoServer | undefined;
    try {
        const { values, positionals } = parseFlags(argv, FLAGS, true);
        if (values.help || values.version) {
            io.out(values.help ? USAGE : `ws-validate ${version()}`);
            return EXIT.ok;
        }
        const plan = planRun(values, positionals, io.env);
        if (plan.options.insecure) {
            io.err(
                "warning: --insecure: certificates are not verified; anyone on the path can read and change this traffic",
            );
        }
        const target = await openTarget(plan.target, values["stack-outputs"], (s) => (echoServer = s));
        checkAddressFamilies(plan.load?.localAddresses, target.url);
        const report = await runPlan(plan, target, values, io);
        printReport(report, values, io);
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
