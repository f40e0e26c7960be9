import { plural } from "../../cli/suggest";
import { HANDSHAKE_FAILURES, MonitorProbe } from "../core";
import type { Report } from "./model";
import { METRICS } from "./thresholds";

// The validator's report as one self-contained HTML file: a handshake latency histogram, each
// endpoint's hold outcomes, the monitor timeline (each probe, the rolling failure rate against its
// threshold) and, from a caller such as the deploy pipeline, phases drawn as bands and as a
// timeline of their own. Hand-written SVG rather than a charting library: four simple charts
// fit in about 300 lines, need no dependency to pin or review, and render with no script and no
// network fetch (the page's Content-Security-Policy forbids any).

/** A span of time drawn as a band on the timeline, such as a deploy phase. */
export interface HtmlPhase {
    readonly name: string;
    /** ok, failed, skipped, recorded, interrupted...: failed and interrupted are drawn red. */
    readonly status: string;
    /** ISO time or epoch milliseconds. */
    readonly start: string | number;
    readonly end: string | number;
    readonly detail?: string;
}

export interface HtmlReportExtras {
    /** The page's title (default: "ws-validate <target>"). */
    readonly title?: string;
    /** Phases to draw as bands on the timeline and as a phase timeline (the deploy's). */
    readonly phases?: readonly HtmlPhase[];
    /** What set off a rollback, shown at the top when given. */
    readonly trigger?: string;
    /** Lines shown under the title, such as the deploy's outcome. */
    readonly notes?: readonly string[];
}

const W = 760;
const COLORS = {
    ok: "#2e7d32",
    fail: "#c62828",
    muted: "#9e9e9e",
    line: "#1565c0",
    threshold: "#ef6c00",
    grid: "#e0e0e0",
};

function esc(text: string): string {
    return text.replace(
        /[&<>"']/g,
        (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
    );
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const time = (t: string | number) => (typeof t === "number" ? t : Date.parse(t));
const statusColor = (status: string) =>
    /fail|interrupt|cut/i.test(status) ? COLORS.fail : /skip|record/i.test(status) ? COLORS.muted : COLORS.ok;

function svg(chart: string, height: number, body: string[], label: string): string {
    return `<svg data-chart="${chart}" role="img" aria-label="${esc(label)}" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" xmlns="http://www.w3.org/2000/svg">${body.join("")}</svg>`;
}

/** Every handshake time the run measured, in ms: probes, holds, load and monitor. */
function handshakeSamples(report: Report): number[] {
    const samples = report.endpoints
        .flatMap((e) => [e.handshake, ...e.holds.map((h) => h.handshake)])
        .filter((h) => h.ok)
        .map((h) => h.timings.totalMs);
    samples.push(...(report.load?.handshakeSamples ?? []));
    samples.push(
        ...(report.monitor?.probes ?? [])
            .filter((p) => p.code === undefined || !HANDSHAKE_FAILURES.has(p.code))
            .map((p) => p.handshakeMs),
    );
    return samples;
}

function histogram(samples: readonly number[]): string {
    if (samples.length === 0) {
        return `<p class="empty">No handshake succeeded, so there is no latency to chart.</p>`;
    }
    const H = 220;
    const [left, bottom, top] = [50, 30, 10];
    const max = Math.max(...samples);
    const binCount = Math.min(20, Math.max(5, Math.ceil(Math.sqrt(samples.length))));
    const width = max > 0 ? max / binCount : 1;
    const bins = Array.from({ length: binCount }, () => 0);
    for (const s of samples) {
        bins[Math.min(binCount - 1, Math.floor(s / width))] += 1;
    }
    const most = Math.max(...bins);
    const plotW = W - left - 10;
    const plotH = H - bottom - top;
    const body: string[] = [
        `<line x1="${left}" y1="${top + plotH}" x2="${W - 10}" y2="${top + plotH}" stroke="#555"/>`,
        `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${most}</text>`,
        `<text x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>`,
    ];
    bins.forEach((count, i) => {
        const x = left + (i * plotW) / binCount;
        const h = (count / most) * plotH;
        body.push(
            `<rect class="mark" x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(plotW / binCount - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS.line}"><title>${num(i * width)}–${num((i + 1) * width)} ms: ${count}</title></rect>`,
        );
        if (i % Math.ceil(binCount / 6) === 0) {
            body.push(`<text x="${x.toFixed(1)}" y="${H - 10}">${num(i * width)} ms</text>`);
        }
    });
    return svg("handshake-histogram", H, body, `handshake latency histogram of ${plural(samples.length, "handshake")}`);
}

function holds(report: Report): string {
    const rows = report.endpoints.flatMap((e) => e.holds.map((h) => ({ endpoint: e.endpoint, h })));
    if (rows.length === 0) {
        return `<p class="empty">No hold ran (--hold 0, or monitor mode).</p>`;
    }
    const rowH = 26;
    const H = rows.length * rowH + 20;
    const left = 190;
    const longest = Math.max(1, ...rows.map((r) => r.h.elapsedSec));
    const body: string[] = [];
    rows.forEach(({ endpoint, h }, i) => {
        const y = 10 + i * rowH;
        const w = Math.max(2, (h.elapsedSec / longest) * (W - left - 170));
        const outcome = !h.handshake.ok
            ? "did not open"
            : h.interrupted
              ? `interrupted at ${h.elapsedSec.toFixed(1)} s`
              : h.survived
                ? `held ${h.elapsedSec.toFixed(1)} s`
                : h.pingTimeout
                  ? `no pong: given up at ${h.elapsedSec.toFixed(1)} s`
                  : `cut at ${h.elapsedSec.toFixed(1)} s (close ${h.closeCode ?? "-"}${h.errorCode ? `, ${h.errorCode}` : ""})`;
        const color = !h.handshake.ok || !h.survived ? COLORS.fail : h.interrupted ? COLORS.muted : COLORS.ok;
        body.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(endpoint)} ${h.mode}</text>`);
        body.push(
            `<rect class="mark" x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${color}"><title>${esc(outcome)}</title></rect>`,
        );
        body.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 16}">${esc(outcome)}</text>`);
    });
    return svg("hold-outcomes", H, body, "hold outcome per endpoint and mode");
}

/** The failure rate over the last `window` probes, after each probe. */
function rolling(probes: readonly MonitorProbe[], window = 10): number[] {
    return probes.map((_, i) => {
        const recent = probes.slice(Math.max(0, i - window + 1), i + 1);
        return recent.filter((p) => !p.ok).length / recent.length;
    });
}

function timeline(report: Report, phases: readonly HtmlPhase[]): string {
    const probes = report.monitor?.probes ?? [];
    if (probes.length === 0 && phases.length === 0) {
        return `<p class="empty">No monitor ran (--monitor), so there is no timeline.</p>`;
    }
    const H = 280;
    const [left, right, top, bottom] = [64, 50, 24, 46];
    const times = [...probes.map((p) => time(p.time)), ...phases.flatMap((p) => [time(p.start), time(p.end)])];
    const t0 = Math.min(...times);
    const t1 = Math.max(t0 + 1000, ...times);
    const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
    const plotH = H - top - bottom;
    const maxMs = Math.max(1, ...probes.map((p) => p.handshakeMs));
    const yMs = (ms: number) => top + plotH - (ms / maxMs) * plotH;
    const yRate = (r: number) => top + plotH - r * plotH;
    const body: string[] = [];
    for (const phase of phases) {
        const [a, b] = [x(time(phase.start)), x(time(phase.end))];
        body.push(
            `<rect class="mark band" x="${a.toFixed(1)}" y="${top}" width="${Math.max(2, b - a).toFixed(1)}" height="${plotH}" fill="${statusColor(phase.status)}" fill-opacity="0.12"><title>${esc(`${phase.name}: ${phase.status}${phase.detail ? ` (${phase.detail})` : ""}`)}</title></rect>`,
            `<text x="${(a + 2).toFixed(1)}" y="${top - 8}" class="small">${esc(phase.name)}</text>`,
        );
    }
    body.push(`<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="#555"/>`);
    body.push(
        `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${num(maxMs)} ms</text>`,
        `<text x="${W - right + 6}" y="${top + 10}">100%</text>`,
    );
    // The failure threshold: 1 - the handshake success rate the run requires.
    const success = report.thresholds.find((t) => t.threshold.metric === "handshake_success_rate");
    if (success && probes.length > 0) {
        const limit = 1 - success.threshold.value;
        body.push(
            `<line class="threshold" x1="${left}" y1="${yRate(limit).toFixed(1)}" x2="${W - right}" y2="${yRate(limit).toFixed(1)}" stroke="${COLORS.threshold}" stroke-dasharray="6 4"/>`,
            `<text x="${W - right + 6}" y="${(yRate(limit) + 4).toFixed(1)}" class="small">${num(limit * 100)}%</text>`,
        );
    }
    const rates = rolling(probes);
    if (probes.length > 1) {
        const points = probes.map((p, i) => `${x(time(p.time)).toFixed(1)},${yRate(rates[i]).toFixed(1)}`).join(" ");
        body.push(
            `<polyline class="mark" points="${points}" fill="none" stroke="${COLORS.line}" stroke-width="2"><title>rolling failure rate, last 10 probes</title></polyline>`,
        );
    }
    for (const p of probes) {
        body.push(
            `<circle class="mark probe" cx="${x(time(p.time)).toFixed(1)}" cy="${yMs(p.handshakeMs).toFixed(1)}" r="4" fill="${p.ok ? COLORS.ok : COLORS.fail}"><title>${esc(`${p.time} ${p.endpoint} ${p.ok ? "ok" : `FAIL ${p.code ?? ""} ${p.status ?? ""}`} ${p.handshakeMs.toFixed(0)} ms`)}</title></circle>`,
        );
    }
    body.push(
        `<text x="${left}" y="${H - 26}">${esc(new Date(t0).toISOString())}</text>`,
        `<text x="${W - right}" y="${H - 26}" text-anchor="end">+${num((t1 - t0) / 1000)} s</text>`,
    );
    const legend = [
        `<circle cx="${left + 4}" cy="${H - 10}" r="4" fill="${COLORS.ok}"/><text x="${left + 12}" y="${H - 6}">probe ok (handshake ms, left axis)</text>`,
        `<circle cx="${left + 236}" cy="${H - 10}" r="4" fill="${COLORS.fail}"/><text x="${left + 244}" y="${H - 6}">probe failed</text>`,
        `<line x1="${left + 320}" y1="${H - 10}" x2="${left + 340}" y2="${H - 10}" stroke="${COLORS.line}" stroke-width="2"/><text x="${left + 346}" y="${H - 6}">failure rate, last 10 (right axis)</text>`,
        `<line x1="${left + 540}" y1="${H - 10}" x2="${left + 560}" y2="${H - 10}" stroke="${COLORS.threshold}" stroke-dasharray="6 4"/><text x="${left + 566}" y="${H - 6}">threshold</text>`,
    ];
    if (probes.length > 0) {
        body.push(...legend);
    }
    return svg("timeline", H, body, "timeline: probes, rolling failure rate against its threshold, phases as bands");
}

function phaseChart(phases: readonly HtmlPhase[]): string {
    const rowH = 24;
    const H = phases.length * rowH + 34;
    const left = 150;
    const t0 = Math.min(...phases.map((p) => time(p.start)));
    const t1 = Math.max(t0 + 1000, ...phases.map((p) => time(p.end)));
    const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - 20);
    const body = phases.flatMap((p, i) => {
        const y = 8 + i * rowH;
        const [a, b] = [x(time(p.start)), x(time(p.end))];
        const seconds = (time(p.end) - time(p.start)) / 1000;
        return [
            `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(p.name)}</text>`,
            `<rect class="mark" x="${a.toFixed(1)}" y="${y + 3}" width="${Math.max(2, b - a).toFixed(1)}" height="${rowH - 6}" fill="${statusColor(p.status)}"><title>${esc(`${p.name}: ${p.status}, ${num(seconds)} s${p.detail ? `: ${p.detail}` : ""}`)}</title></rect>`,
        ];
    });
    body.push(
        `<text x="${left}" y="${H - 6}">0 s</text>`,
        `<text x="${W - 20}" y="${H - 6}" text-anchor="end">${num((t1 - t0) / 1000)} s</text>`,
    );
    return svg("phases", H, body, "phase timeline");
}

function thresholdTable(report: Report): string {
    const rows = report.thresholds.map((t) => {
        const mark = t.passed === undefined ? "n/a" : t.passed ? "ok" : "FAIL";
        const observed = t.observed === undefined ? "no data" : num(t.observed);
        return `<tr class="${mark === "FAIL" ? "fail" : ""}"><td>${mark}</td><td><code>${esc(t.threshold.source)}</code></td><td>${esc(observed)}</td><td>${esc(METRICS[t.threshold.metric])}</td></tr>`;
    });
    return `<table><tr><th></th><th>threshold</th><th>observed</th><th>meaning</th></tr>${rows.join("")}</table>`;
}

/**
 * The report as one HTML page with no outside reference: open it from a file, mail it, attach it
 * to a ticket. `extras` lets a caller (the deploy pipeline) add its phases and rollback trigger.
 */
export function renderReportHtml(report: Report, extras: HtmlReportExtras = {}): string {
    const title = extras.title ?? `ws-validate ${report.target.url}`;
    const verdict = report.interrupted ? "INTERRUPTED" : report.verdict.toUpperCase();
    const phases = extras.phases ?? [];
    const failures = report.failures.map(
        (f) => `<li><code>${esc(f.code)}</code> ${esc(f.endpoint ?? "")}: ${esc(f.message)}</li>`,
    );
    const sections = [
        `<h1>${esc(title)}</h1>`,
        `<p class="verdict ${verdict === "PASS" ? "pass" : "fail"}">${verdict} (exit ${report.exitCode})</p>`,
        `<p>${esc(report.target.url)} (${esc(report.target.source)}), started ${esc(report.startedAt)}, ${num(report.durationSec)} s</p>`,
        ...(extras.notes ?? []).map((n) => `<p>${esc(n)}</p>`),
        extras.trigger ? `<p class="trigger"><strong>Rollback trigger:</strong> ${esc(extras.trigger)}</p>` : "",
        phases.length ? `<h2>Phases</h2>${phaseChart(phases)}` : "",
        `<h2>Handshake latency</h2>${histogram(handshakeSamples(report))}`,
        `<h2>Hold outcomes</h2>${holds(report)}`,
        `<h2>Timeline</h2>${timeline(report, phases)}`,
        `<h2>Thresholds</h2>${thresholdTable(report)}`,
        failures.length ? `<h2>Failures</h2><ul>${failures.join("")}</ul>` : "",
    ];
    // The script only records what the browser laid out (for the report's own browser test); the
    // page shows the same without it.
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:${W + 40}px;color:#212121}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px}
svg{display:block;background:#fafafa;border:1px solid ${COLORS.grid}}svg text{font-size:12px;fill:#424242}svg text.small{font-size:10px}
.verdict{font-weight:bold;font-size:16px}.pass{color:${COLORS.ok}}.fail{color:${COLORS.fail}}.trigger{border-left:4px solid ${COLORS.fail};padding-left:8px}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid ${COLORS.grid}}.empty{color:#757575}
</style></head><body>
${sections.filter(Boolean).join("\n")}
<script>
document.body.dataset.rendered = JSON.stringify(Array.from(document.querySelectorAll("svg[data-chart]")).map(function (s) {
  var box = s.getBoundingClientRect();
  var marks = Array.from(s.querySelectorAll(".mark")).filter(function (m) { var b = m.getBBox(); return b.width > 0 || b.height > 0; }).length;
  return { chart: s.dataset.chart, width: Math.round(box.width), height: Math.round(box.height), marks: marks };
}));
</script>
</body></html>
`;
}
