import type { AffinityOptions, Scenario, ScenarioResult } from "./scenario";
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
    const c: Record<Counter, number> = {
        handshakesAttempted: handshakes.length,
        handshakesOpened: handshakes.filter((h) => h.ok).length,
        // Connections that opened and were not cut: the main probes, the holds, the load.
        connectionsStayedUp:
            endpoints.filter(
                (e) =>
                    e.handshake.ok &&
                    !e.failures.some((f) => f.code === "ECHO_TIMEOUT" && f.evidence.closeCode !== undefined),
            ).length + endpoints.flatMap((e) => e.holds).filter((h) => h.handshake.ok && h.survived).length,
        holds: 0,
        holdsReached: 0,
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
    const holds = endpoints.flatMap((e) => e.holds);
    c.holds = holds.length;
    // An interrupted hold was not cut, but it was not held for its time either.
    c.holdsReached = holds.filter((h) => h.survived && !h.interrupted).length;
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

async function validateWith(options: ValidateOptions & { readonly sockets: SocketPool }): Promise<Report> {
    const started = Date.now();
    const signal = options.signal ?? options.monitor?.signal;
    const phase = options.onPhase ?? (() => undefined);
    // A monitor is for watching now: its first line must not wait behind a 40 s hold.
    const probeOptions = { ...options, signal, holdSec: options.monitor ? 0 : options.holdSec };
    const holdStarted = Date.now();
    phase(
        `probe ${options.endpoints.join(",")}`,
        probeOptions.holdSec > 0
            ? () =>
                  `hold ${Math.floor(Math.min(probeOptions.holdSec, (Date.now() - holdStarted) / 1000))}/${probeOptions.holdSec} s`
            : undefined,
    );
    const endpoints = await Promise.all(options.endpoints.map((e) => probeEndpoint(options.baseUrl, e, probeOptions)));
    const urls = options.endpoints.map((endpoint) => ({ endpoint, url: endpointUrl(options.baseUrl, endpoint) }));
    let loadCounts: LoadCounts = { opened: 0, held: 0, requested: options.load?.connections ?? 0 };
    if (options.load && !signal?.aborted) {
        phase("load", () => `${loadCounts.opened}/${loadCounts.requested} opened, ${loadCounts.held} held`);
    }
    const load =
        options.load && !signal?.aborted
            ? await runLoad(
                  urls.map((u) => u.url),
                  {
                      ...options,
                      signal,
                      connections: options.load.connections,
                      rate: options.load.rate,
                      localAddresses: options.load.localAddresses,
                      holdSec: options.holdSec,
                      onProgress: (c) => (loadCounts = c),
                  },
              )
            : undefined;
    let monitorCounts = { probes: 0, failed: 0 };
    if (options.monitor && !signal?.aborted) {
        phase("monitor", () => `${plural(monitorCounts.probes, "probe")}, ${monitorCounts.failed} failed`);
    }
    const monitor =
        options.monitor && !signal?.aborted
            ? await (
                  await import("./core/monitor")
              ).runMonitor(urls, {
                  ...options,
                  ...options.monitor,
                  signal,
                  print: (line) => {
                      monitorCounts = {
                          probes: monitorCounts.probes + 1,
                          failed: monitorCounts.failed + (/ FAIL /.test(line) ? 1 : 0),
                      };
                      options.monitor!.print(line);
                  },
              })
            : undefined;

    // An interrupted run skips what it has not started, as the other phases do. The monitor, the
    // scenario and the affinity check are loaded when a run asks for them: a load run's memory is
    // what it measures against a plain client, and every module under ts-node costs some.
    const scenario =
        options.scenario && !signal?.aborted
            ? await (await import("./scenario/run")).runScenario(options.scenario, options.baseUrl, options)
            : undefined;
    const affinity =
        options.affinity && !signal?.aborted
            ? await (await import("./scenario/affinity")).checkAffinity(options.baseUrl, options.affinity, options)
            : undefined;

    // Read after every phase: a Ctrl-C during the scenario or the affinity check interrupts the run too.
    const interrupted = signal?.aborted === true;
    return judge(options, { endpoints, load, monitor, scenario, affinity }, started, interrupted);
}

type Measured = Pick<Report, "endpoints" | "load" | "monitor" | "scenario" | "affinity">;

/** The report: the thresholds judged on the run's tally, the verdict and its exit code. */
function judge(options: ValidateOptions, measured: Measured, started: number, interrupted: boolean): Report {
    const { endpoints, load, monitor, scenario, affinity } = measured;
    const judged =
        scenario && !options.thresholds.some((t) => t.metric === "check_success_rate")
            ? [...options.thresholds, parseThreshold(SCENARIO_DEFAULT_THRESHOLD)]
            : options.thresholds;
    const failures = [
        ...endpoints.flatMap((e) => e.failures.map((f) => ({ ...f, endpoint: e.endpoint }))),
        ...(affinity?.failures.map((f) => ({ ...f, endpoint: affinity.path })) ?? []),
    ];
    const failuresByCode: Tally["failuresByCode"] = {};
    for (const f of failures) {
        failuresByCode[f.code] = (failuresByCode[f.code] ?? 0) + 1;
    }
    const tally: Tally = { ...tallyOf(endpoints, load, monitor, scenario), failuresByCode, interrupted };
    const metrics = metricsOfTally(tally);
    const thresholds = evaluate(judged, metrics);
    const failed = failures.length > 0 || thresholds.some((t) => t.passed === false);
    return {
        target: { url: options.baseUrl, source: options.source },
        startedAt: new Date(started).toISOString(),
        durationSec: (Date.now() - started) / 1000,
        ...measured,
        metrics,
        thresholds,
        failures,
        tally,
        verdict: failed ? "fail" : "pass",
        exitCode: interrupted ? 130 : failed ? 1 : 0,
        interrupted: interrupted ? true : undefined,
    };
}
