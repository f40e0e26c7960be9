import { plural } from "../../cli/suggest";
import { distributionOf, EndpointResult, HISTOGRAM_PRECISION, HoldResult } from "../core";
import type { Report } from "./model";
import type { StepFailure } from "../scenario";
import { METRICS } from "./thresholds";

/** One line per failed check run: what the report and the synthetic monitor print. */
export function describeFailure(check: string, f: StepFailure): string {
    const evidence = [
        f.status !== undefined ? `status ${f.status}` : "",
        f.closeCode !== undefined ? `close code ${f.closeCode}${f.closeReason ? ` "${f.closeReason}"` : ""}` : "",
        f.received.length ? `last messages ${JSON.stringify(f.received)}` : "no messages received",
    ]
        .filter(Boolean)
        .join("; ");
    return `${check}: step ${f.step} (${f.kind}, line ${f.line}) ${f.code}: ${f.message}; expected ${f.expected}; ${evidence}`;
}

const ms = (v: number | undefined, digits = 0) => (v === undefined ? "-" : `${v.toFixed(digits)} ms`);

function handshakeLine(e: EndpointResult): string {
    const t = e.handshake.timings;
    if (!e.handshake.ok) {
        const f = e.failures[0];
        return `handshake FAILED ${f ? `${f.code}: ${f.message}` : ""}${f?.evidence.bodyExcerpt ? ` (body: ${JSON.stringify(f.evidence.bodyExcerpt.slice(0, 80))})` : ""}`;
    }
    return (
        `handshake 101 in ${ms(t.totalMs)} (dns ${ms(t.dnsMs)}, tcp ${ms(t.tcpMs)}, tls ${ms(t.tlsMs)}, upgrade ${ms(t.upgradeMs)}), ` +
        `subprotocol ${e.handshake.protocol || "-"}, extensions ${e.handshake.extensions || "-"}`
    );
}

function holdLine(h: HoldResult): string {
    const at = `${h.elapsedSec.toFixed(1)} s`;
    const outcome = !h.handshake.ok
        ? "did not open"
        : h.interrupted
          ? `stopped by an interrupt at ${at}, not held to the end`
          : h.survived
            ? `held ${at}`
            : h.pingTimeout
              ? `NO PONG: given up at ${at}`
              : h.error !== undefined && h.errorCode?.startsWith("WS_ERR_")
                ? `CLOSED at ${at} on a frame ws refused (${h.errorCode}: ${h.error})`
                : `CUT at ${at}, close code ${h.closeCode ?? "-"}${h.closeReason ? ` "${h.closeReason}"` : ""}`;
    const pings = h.pings === undefined ? "" : `${plural(h.pings, "ping")}, `;
    return `${outcome}${h.mode === "ping" ? `, ${pings}${plural(h.pongs, "pong")}` : ""}`;
}

function scenarioLines(report: Report): string[] {
    const lines: string[] = [];
    if (report.scenario) {
        lines.push(`scenario ${report.scenario.file}:`);
        for (const c of report.scenario.checks) {
            lines.push(
                `    ${c.failed === 0 ? "ok  " : "FAIL"} ${c.name} (${c.passed}/${c.runs} passed, p95 ${ms(c.durationMs.p95)})`,
            );
            for (const f of c.failures.slice(0, 2)) {
                lines.push(`         ${describeFailure(c.name, f)}`);
            }
        }
        lines.push("");
    }
    if (report.affinity) {
        lines.push(
            `affinity ${report.affinity.path} (cookie ${report.affinity.cookieName}): ${report.affinity.verdict}: ${report.affinity.summary}`,
            "",
        );
    }
    for (const check of report.security ?? []) {
        lines.push(`${check.check} ${check.path}: ${check.verdict}: ${check.summary}`);
    }
    if (report.security?.length) {
        lines.push("");
    }
    return lines;
}

/** What `ws-validate merge` summed: the shards, their counts and their failure codes. */
function mergedLines(report: Report): string[] {
    if (!report.merged) {
        return [];
    }
    const { shards, tally } = report.merged;
    const c = tally.counters;
    const codes = (byCode: Record<string, number | undefined>) =>
        Object.entries(byCode)
            .map(([code, n]) => `${code} ${n}`)
            .join(", ") || "none";
    const hs = distributionOf(tally.histograms.handshakeMs);
    return [
        `merged ${plural(shards.length, "shard")}: ${shards.join(", ")}`,
        `    handshakes ${c.handshakesOpened}/${c.handshakesAttempted} opened, ${c.connectionsStayedUp} stayed up; holds ${c.holdsReached}/${c.holds} reached; checks ${c.checksPassed}/${c.checkRuns} passed`,
        `    handshake p50 ${ms(hs.p50, 2)} p95 ${ms(hs.p95, 2)} p99 ${ms(hs.p99, 2)} max ${ms(hs.max, 2)} (HDR histogram, ${HISTOGRAM_PRECISION.significantDigits} significant digits of ${HISTOGRAM_PRECISION.unit})`,
        `    failures ${codes(tally.failuresByCode)}; load handshakes refused ${codes(tally.loadFailuresByCode)}`,
        "",
    ];
}

export function renderReport(report: Report): string {
    const lines: string[] = [`ws-validate ${report.target.url} (${report.target.source})`, ""];
    for (const e of report.endpoints) {
        lines.push(`${e.endpoint}`);
        lines.push(`    ${handshakeLine(e)}`);
        if (e.roundTrip) {
            const l = e.roundTrip.latencyMs;
            lines.push(
                `    round trip ${e.roundTrip.received}/${e.roundTrip.sent} echoed, latency p50 ${ms(l.p50, 2)} p95 ${ms(l.p95, 2)} p99 ${ms(l.p99, 2)} max ${ms(l.max, 2)}`,
            );
        }
        for (const h of e.holds) {
            lines.push(`    hold ${h.mode.padEnd(4)} ${holdLine(h)}`);
        }
        lines.push(`    diagnosis: ${e.diagnosisText}`);
        for (const f of e.failures.filter((f) => !(f === e.failures[0] && !e.handshake.ok))) {
            lines.push(`    ${f.code}: ${f.message} ${JSON.stringify(f.evidence)}`);
        }
        lines.push("");
    }
    if (report.load) {
        const l = report.load;
        lines.push(
            `load: ${l.interrupted ? `interrupted: ${l.opened} of the ${l.asked} asked connections opened (${l.requested} started)` : `${l.opened}/${l.requested} opened`} in ${l.openSec.toFixed(1)} s (${l.achievedRatePerSec.toFixed(0)}/s), ${l.survived} held, ${l.cut} cut, ` +
                `handshake p50 ${ms(l.handshakeMs.p50, 1)} p95 ${ms(l.handshakeMs.p95, 1)} p99 ${ms(l.handshakeMs.p99, 1)}` +
                (Object.keys(l.failuresByCode).length ? `, failures ${JSON.stringify(l.failuresByCode)}` : ""),
        );
        lines.push("");
    }
    if (report.monitor) {
        const m = report.monitor;
        lines.push(
            `monitor: ${plural(m.probes.length, "probe")}, ${m.probes.filter((p) => !p.ok).length} failed (${(m.failureRate * 100).toFixed(1)}%)${m.stoppedEarly ? ", stopped early" : ""}`,
        );
        lines.push("");
    }
    lines.push(...scenarioLines(report), ...mergedLines(report));
    lines.push("thresholds:");
    for (const t of report.thresholds) {
        const mark = t.passed === undefined ? "n/a " : t.passed ? "ok  " : "FAIL";
        const observed =
            t.observed === undefined
                ? "no data"
                : Number.isInteger(t.observed)
                  ? String(t.observed)
                  : t.observed.toFixed(3);
        lines.push(
            `    ${mark} ${t.threshold.source.padEnd(32)} observed ${observed}   (${METRICS[t.threshold.metric]})`,
        );
    }
    lines.push("");
    lines.push(
        report.interrupted
            ? `verdict: INTERRUPTED after ${report.durationSec.toFixed(1)} s: the results above are what was measured until then (exit ${report.exitCode})`
            : `verdict: ${report.verdict.toUpperCase()} (exit ${report.exitCode})`,
    );
    return lines.join("\n");
}
