import type { AffinityOptions, Scenario, ScenarioResult } from "./scenario";
import type { SecurityChecks } from "./security-flags";
import { plural } from "../cli/suggest";
import {
    HANDSHAKE_FAILURES,
    SocketPool,
    runLoad,
    LoadCounts,
    LoadResult,
    type MonitorResult,
    EndpointResult,
    endpointUrl,
    probeEndpoint,
    ProbeOptions,
    histogramOf,
    mergeHistograms,
    checkOrigin,
    checkRateLimit,
    SecurityCheckResult,
} from "./core";
import {
    Counter,
    evaluate,
    metricsOfTally,
    parseThreshold,
    Report,
    SCENARIO_DEFAULT_THRESHOLD,
    Tally,
    Threshold,
} from "./report";

export interface ValidateOptions extends ProbeOptions {
    readonly baseUrl: string;
    readonly source: string;
    readonly endpoints: readonly string[];
    readonly thresholds: readonly Threshold[];
    readonly load?: { connections: number; rate: number; localAddresses?: readonly string[] };
    /**
     * The endpoint probes' hold, when it differs from the load's `holdSec` (--probe-hold): a load
     * task of many (load/task.ts) opens at its start time, not after a hold of its own.
     */
    readonly probeHoldSec?: number;
    /** Monitor mode: probes start at once; the endpoints get handshake and round trip, no hold. */
    readonly monitor?: {
        intervalSec: number;
        durationSec: number;
        signal?: AbortSignal;
        print: (line: string) => void;
    };
    /** Scripted checks (--scenario), judged by check_success_rate. */
    readonly scenario?: Scenario;
    /** The affinity check (--affinity N); a broken affinity fails the run. */
    readonly affinity?: AffinityOptions;
    /** The edge's defences (--check-origin, --check-rate-limit); a failed one fails the run. */
    readonly security?: SecurityChecks;
    /** First Ctrl-C: every phase stops at its next safe point and the report says so (exit 130). */
    readonly signal?: AbortSignal;
    /** Second Ctrl-C: stop waiting for handshakes in flight; every socket is ended at once. */
    readonly force?: AbortSignal;
    /** Called as each phase starts, with a function that tells how far it got (for a progress line). */
    readonly onPhase?: (name: string, detail?: () => string) => void;
}

/** Everything the run measured, reduced to counters, codes and histograms that add up across shards. */
function tallyOf(
    endpoints: readonly EndpointResult[],
    load?: LoadResult,
    monitor?: MonitorResult,
    scenario?: ScenarioResult,
): Omit<Tally, "failuresByCode" | "interrupted"> {
    const handshakes = endpoints.flatMap((e) => [e.handshake, ...e.holds.map((h) => h.handshake)]);
    const handshakeMs = handshakes.filter((h) => h.ok).map((h) => h.timings.totalMs);
    const holds = endpoints.flatMap((e) => e.holds);
    const c: Record<Counter, number> = {
        handshakesAttempted: handshakes.length,
        handshakesOpened: handshakes.filter((h) => h.ok).length,
        // Connections that opened and were not cut: the main probes, the holds, the load.
        connectionsStayedUp:
            endpoints.filter(
                (e) =>
                    e.handshake.ok &&
                    !e.failures.some((f) => f.code === "ECHO_TIMEOUT" && f.evidence.closeCode !== undefined),
            ).length + holds.filter((h) => h.handshake.ok && h.survived).length,
        holds: holds.length,
        // An interrupted hold was not cut, but it was not held for its time either.
        holdsReached: holds.filter((h) => h.survived && !h.interrupted).length,
        checkRuns: scenario?.checks.reduce((n, check) => n + check.runs, 0) ?? 0,
        checksPassed: scenario?.checks.reduce((n, check) => n + check.passed, 0) ?? 0,
    };
    if (load) {
        c.handshakesAttempted += load.requested;
        c.handshakesOpened += load.opened;
        c.connectionsStayedUp += load.survived;
    }
    if (monitor) {
        c.handshakesAttempted += monitor.probes.length;
        const ok = monitor.probes.filter((p) => p.code === undefined || !HANDSHAKE_FAILURES.has(p.code));
        c.handshakesOpened += ok.length;
        c.connectionsStayedUp += monitor.probes.filter((p) => p.ok).length;
        handshakeMs.push(...ok.map((p) => p.handshakeMs));
    }
    return {
        counters: c,
        loadFailuresByCode: load?.failuresByCode ?? {},
        histograms: {
            handshakeMs: mergeHistograms([histogramOf(handshakeMs), ...(load ? [load.handshakeHistogram] : [])]),
            messageLatencyMs: histogramOf(endpoints.flatMap((e) => e.roundTrip?.samples ?? [])),
        },
        scenario: scenario !== undefined,
    };
}

/**
 * Probes every endpoint (side by side), then the load and the monitor if asked, then judges. The
 * run owns every socket it opens: whatever happens, none is left open when it returns or throws.
 */
export async function validate(options: ValidateOptions): Promise<Report> {
    const sockets = new SocketPool();
    const endNow = () => sockets.terminateAll();
    options.force?.addEventListener("abort", endNow, { once: true });
    try {
        return await validateWith({ ...options, sockets });
    } finally {
        options.force?.removeEventListener("abort", endNow);
        sockets.terminateAll();
    }
}

type RunOptions = ValidateOptions & { readonly sockets: SocketPool; readonly signal?: AbortSignal };
type Urls = { endpoint: string; url: string }[];

async function probePhase(options: RunOptions, phase: Phase): Promise<EndpointResult[]> {
    // A monitor is for watching now: its first line must not wait behind a 40 s hold.
    const probeOptions = { ...options, holdSec: options.monitor ? 0 : (options.probeHoldSec ?? options.holdSec) };
    const holdStarted = Date.now();
    const held = () => Math.floor(Math.min(probeOptions.holdSec, (Date.now() - holdStarted) / 1000));
    phase(
        `probe ${options.endpoints.join(",")}`,
        probeOptions.holdSec > 0 ? () => `hold ${held()}/${probeOptions.holdSec} s` : undefined,
    );
    return Promise.all(options.endpoints.map((e) => probeEndpoint(options.baseUrl, e, probeOptions)));
}

async function loadPhase(options: RunOptions, urls: Urls, phase: Phase): Promise<LoadResult | undefined> {
    if (!options.load || options.signal?.aborted) {
        return undefined;
    }
    let counts: LoadCounts = { opened: 0, held: 0, requested: options.load.connections };
    phase("load", () => `${counts.opened}/${counts.requested} opened, ${counts.held} held`);
    return runLoad(
        urls.map((u) => u.url),
        {
            ...options,
            connections: options.load.connections,
            rate: options.load.rate,
            localAddresses: options.load.localAddresses,
            holdSec: options.holdSec,
            onProgress: (c) => (counts = c),
        },
    );
}

async function monitorPhase(options: RunOptions, urls: Urls, phase: Phase): Promise<MonitorResult | undefined> {
    const monitor = options.monitor;
    if (!monitor || options.signal?.aborted) {
        return undefined;
    }
    let counts = { probes: 0, failed: 0 };
    phase("monitor", () => `${plural(counts.probes, "probe")}, ${counts.failed} failed`);
    const { runMonitor } = await import("./core/monitor");
    return runMonitor(urls, {
        ...options,
        ...monitor,
        signal: options.signal,
        print: (line) => {
            counts = { probes: counts.probes + 1, failed: counts.failed + (/ FAIL /.test(line) ? 1 : 0) };
            monitor.print(line);
        },
    });
}

type Phase = NonNullable<ValidateOptions["onPhase"]>;

/** The run's verdict: the thresholds judged on the run's tally (what `--shard-out` writes). */
function judge(
    options: RunOptions,
    measured: Pick<Report, "endpoints" | "load" | "monitor" | "scenario" | "affinity" | "security">,
    interrupted: boolean,
): Pick<Report, "metrics" | "thresholds" | "failures" | "verdict" | "tally"> {
    const { endpoints, scenario, affinity, security } = measured;
    const judged =
        scenario && !options.thresholds.some((t) => t.metric === "check_success_rate")
            ? [...options.thresholds, parseThreshold(SCENARIO_DEFAULT_THRESHOLD)]
            : options.thresholds;
    const failures = [
        ...endpoints.flatMap((e) => e.failures.map((f) => ({ ...f, endpoint: e.endpoint }))),
        ...(affinity?.failures.map((f) => ({ ...f, endpoint: affinity.path })) ?? []),
        ...(security ?? []).flatMap((c) => c.failures.map((f) => ({ ...f, endpoint: c.path }))),
    ];
    const failuresByCode: Tally["failuresByCode"] = {};
    for (const f of failures) {
        failuresByCode[f.code] = (failuresByCode[f.code] ?? 0) + 1;
    }
    const tally: Tally = {
        ...tallyOf(endpoints, measured.load, measured.monitor, scenario),
        failuresByCode,
        interrupted,
    };
    const metrics = metricsOfTally(tally);
    const thresholds = evaluate(judged, metrics);
    const failed = failures.length > 0 || thresholds.some((t) => t.passed === false);
    return { metrics, thresholds, failures, tally, verdict: failed ? "fail" : "pass" };
}

async function validateWith(given: ValidateOptions & { readonly sockets: SocketPool }): Promise<Report> {
    const started = Date.now();
    const options: RunOptions = { ...given, signal: given.signal ?? given.monitor?.signal };
    const signal = options.signal;
    const phase = options.onPhase ?? (() => undefined);
    const endpoints = await probePhase(options, phase);
    const urls = options.endpoints.map((endpoint) => ({ endpoint, url: endpointUrl(options.baseUrl, endpoint) }));
    const load = await loadPhase(options, urls, phase);
    const monitor = await monitorPhase(options, urls, phase);

    // An interrupted run skips what it has not started, as the other phases do. The monitor, the
    // scenario and the affinity check are loaded when a run asks for them: a load run's memory is
    // what it measures against a plain client, and every module costs some.
    const scenario =
        options.scenario && !signal?.aborted
            ? await (await import("./scenario/run")).runScenario(options.scenario, options.baseUrl, options)
            : undefined;
    const affinity =
        options.affinity && !signal?.aborted
            ? await (await import("./scenario/affinity")).checkAffinity(options.baseUrl, options.affinity, options)
            : undefined;
    const checks = await securityChecks(options, signal);
    // Read after every phase: a Ctrl-C during the scenario, the affinity or the security checks interrupts the run too.
    const interrupted = signal?.aborted === true;
    const measured = { endpoints, load, monitor, scenario, affinity, security: checks.length > 0 ? checks : undefined };
    const verdict = judge(options, measured, interrupted);
    return {
        target: { url: options.baseUrl, source: options.source },
        startedAt: new Date(started).toISOString(),
        durationSec: (Date.now() - started) / 1000,
        ...measured,
        ...verdict,
        exitCode: interrupted ? 130 : verdict.verdict === "fail" ? 1 : 0,
        interrupted: interrupted ? true : undefined,
    };
}

/** The Origin check, then the rate limit: the rate limit's refusals would spoil the Origin check's 101. */
async function securityChecks(options: RunOptions, signal: AbortSignal | undefined): Promise<SecurityCheckResult[]> {
    const results: SecurityCheckResult[] = [];
    const connect = { ...options, signal };
    if (options.security?.origin && !signal?.aborted) {
        results.push(await checkOrigin(options.baseUrl, options.security.origin, connect));
    }
    if (options.security?.rateLimit && !signal?.aborted) {
        results.push(await checkRateLimit(options.baseUrl, options.security.rateLimit, connect));
    }
    return results;
}
