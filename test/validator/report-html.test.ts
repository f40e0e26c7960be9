import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../validator/cli";
import { EchoServer, startEchoServer } from "../../validator";
import { hasBinary, lifetimeCapProxy, refusingServer } from "./servers";

interface Rendered {
    readonly chart: string;
    readonly width: number;
    readonly height: number;
    readonly marks: number;
}

const CHROMIUM = ["chromium", "chromium-browser", "google-chrome"].find(hasBinary);

/** Loads the file in headless Chromium and returns what the page recorded it laid out. */
function renderedCharts(file: string): Promise<Rendered[]> {
    return new Promise((resolve, reject) => {
        execFile(
            CHROMIUM!,
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom", `file://${file}`],
            { timeout: 120_000, maxBuffer: 20 * 1024 * 1024 },
            (error, stdout) => {
                if (error && !stdout) {
                    // Node types it as Error with `code` retyped, which hides from the linter that it is one.
                    const failed: Error = error;
                    reject(failed);
                    return;
                }
                const attribute = /data-rendered="([^"]*)"/.exec(stdout);
                if (!attribute) {
                    reject(new Error(`the page recorded no rendered charts; DOM:\n${stdout.slice(0, 2000)}`));
                    return;
                }
                resolve(JSON.parse(attribute[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as Rendered[]);
            },
        );
    });
}

async function validateTo(args: string[]): Promise<{ code: number; out: string }> {
    let out = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (out += t + "\n"), env: {} });
    return { code, out };
}

describe("validator: --report-html, rendered by a real browser", function () {
    // Chromium's first start on a loaded 2-core machine can take a while.
    this.timeout(180_000);
    let echo: EchoServer;
    let dir: string;

    before(async function () {
        if (!CHROMIUM) {
            console.warn("      SKIPPED: Chromium is not installed (apt-get install -y chromium); .ci/run installs it");
            this.skip();
        }
        echo = await startEchoServer();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-html-"));
    });
    after(async () => {
        await echo?.close();
    });

    it("draws the handshake histogram and the hold outcomes (one held, one cut) with no outside reference", async () => {
        const proxy = await lifetimeCapProxy(echo.port, 1);
        try {
            const file = path.join(dir, "holds.html");
            const run = await validateTo([
                "--url",
                proxy.url,
                "--endpoints",
                "/ws",
                "--hold",
                "2",
                "--hold-mode",
                "both",
                "--ping-interval",
                "0.3",
                "--report-html",
                file,
            ]);
            assert.equal(run.code, 1, run.out);
            const html = fs.readFileSync(file, "utf8");
            // Self-contained: nothing to fetch, and the page's policy forbids fetching anyway.
            assert.doesNotMatch(html, /\b(src|href)=/);
            assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
            const charts = await renderedCharts(file);
            const byName = Object.fromEntries(charts.map((c) => [c.chart, c]));
            assert.ok(byName["handshake-histogram"]?.marks > 0, JSON.stringify(charts));
            assert.equal(byName["hold-outcomes"]?.marks, 2, JSON.stringify(charts));
            for (const chart of charts) {
                assert.ok(chart.width > 100 && chart.height > 50, JSON.stringify(chart));
            }
            assert.match(html, /cut at [\d.]+ s \(close 1006\)/);
        } finally {
            await proxy.close();
        }
    });

    it("draws the monitor timeline: a point per probe, the rolling failure rate and its threshold", async () => {
        const server = await refusingServer(502, "bad gateway");
        try {
            const file = path.join(dir, "monitor.html");
            const run = await validateTo([
                "--url",
                server.url,
                "--endpoints",
                "/ws",
                "--monitor",
                "--interval",
                "0.2",
                "--duration",
                "1",
                "--report-html",
                file,
            ]);
            assert.equal(run.code, 1, run.out);
            const probes = (run.out.match(/FAIL HANDSHAKE_REFUSED 502/g) ?? []).length;
            const charts = await renderedCharts(file);
            const timeline = charts.find((c) => c.chart === "timeline");
            // One point per probe plus the rolling-rate line.
            assert.equal(timeline?.marks, probes + 1, JSON.stringify(charts));
            const html = fs.readFileSync(file, "utf8");
            assert.match(html, /class="threshold"/);
        } finally {
            await server.close();
        }
    });
});
