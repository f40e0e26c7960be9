// ws-validate's load mode against the least a plain `ws` client can do for the same work:
// CONNECTIONS connections opened unpaced (as fast as each can) to a local echo server, every open
// awaited, held HOLD seconds, all closed. Whole processes, run in turn A B B A A B ... so a drift in the
// machine's speed falls on both; the client pinned to one CPU and the echo server to another, so
// each client has a core to itself and the ratio compares like with like. Both run under the same
// loader (cli/register.js, the npm scripts' own) and are measured by the same preload (bench/process-usage.ts).
// Loopback only.
//
//   npm run bench:validator-vs-ws
//   CONNECTIONS=2000 RUNS=3 npm run bench:validator-vs-ws
//   CALIBRATE=1 RUNS=15 npm run bench:validator-vs-ws   the plain client against itself (A/A): what
//                                                       ratio this host reads for no difference
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEchoProcess } from "./echo-process";
import { bootstrapMedian, median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10_000);
const HOLD_SEC = Number(process.env.HOLD ?? 1);
const RUNS = Number(process.env.RUNS ?? 5);
const CLIENT_CPU = process.env.CLIENT_CPU ?? "0";
const SERVER_CPU = process.env.SERVER_CPU ?? "1";
/** The goals: at least this share of the plain client's rate, at most this multiple of its memory. */
const RATE_GOAL = 0.97;
const MEMORY_GOAL = 1.2;

interface Sample {
    readonly opened: number;
    readonly openSec: number;
    readonly rate: number;
    readonly maxRssBytes: number;
    readonly cpuSec: number;
}

interface Side {
    readonly name: string;
    readonly args: (url: string) => string[];
    readonly load: (stdout: string) => { opened: number; survived: number; openSec: number };
}

const VALIDATOR_AND_PLAIN: readonly Side[] = [
    {
        name: "ws-validate",
        // An unreachable rate is unpaced: the load loop never waits, as the plain client's does not.
        args: (url) => [
            "validator/cli.ts",
            "--url",
            url,
            "--connections",
            String(CONNECTIONS),
            "--rate",
            "1000000000",
            "--hold",
            String(HOLD_SEC),
            "--hold-mode",
            "idle",
            "--messages",
            "1",
            "--handshake-timeout",
            "120",
            "--json",
        ],
        load: (stdout) => (JSON.parse(stdout) as { load: { opened: number; survived: number; openSec: number } }).load,
    },
    {
        name: "plain ws",
        args: (url) => ["bench/plain-ws-client.ts", url, String(CONNECTIONS), String(HOLD_SEC)],
        load: (stdout) => JSON.parse(stdout) as { opened: number; survived: number; openSec: number },
    },
];
const CALIBRATE = process.env.CALIBRATE === "1";
const SIDES: readonly Side[] = CALIBRATE
    ? [
          { ...VALIDATOR_AND_PLAIN[1], name: "plain ws (A)" },
          { ...VALIDATOR_AND_PLAIN[1], name: "plain ws (B)" },
      ]
    : VALIDATOR_AND_PLAIN;

function runSide(side: Side, url: string, usageFile: string): Promise<Sample> {
    const args = [
        "-c",
        CLIENT_CPU,
        process.execPath,
        "-r",
        "./cli/register.js",
        "-r",
        "./bench/process-usage.ts",
        ...side.args(url),
    ];
    return new Promise((resolve, reject) => {
        const child = spawn("taskset", args, {
            cwd: ROOT,
            env: { ...process.env, PROCESS_USAGE_FILE: usageFile },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.once("error", reject);
        child.once("close", (code) => {
            try {
                const load = side.load(stdout);
                const usage = JSON.parse(fs.readFileSync(usageFile, "utf8")) as { maxRssBytes: number; cpuSec: number };
                if (load.opened !== CONNECTIONS || load.survived !== CONNECTIONS) {
                    throw new Error(`opened ${load.opened} and held ${load.survived} of ${CONNECTIONS}`);
                }
                resolve({ opened: load.opened, openSec: load.openSec, rate: load.opened / load.openSec, ...usage });
            } catch (e) {
                reject(
                    new Error(
                        `${side.name} (exit ${code}): ${e instanceof Error ? e.message : String(e)}\n${stderr.slice(-2000)}`,
                    ),
                );
            }
        });
    });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const load = () =>
    os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(", ");

async function main(): Promise<void> {
    const cpus = os.cpus();
    console.log(
        `machine: ${cpus.length}x ${cpus[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load()}`,
    );
    console.log(
        `work: ${CONNECTIONS} connections unpaced to 127.0.0.1, held ${HOLD_SEC} s; client on CPU ${CLIENT_CPU}, echo server on CPU ${SERVER_CPU}; ${RUNS} runs each, A B then B A in turn, after one warm-up pair`,
    );
    const server = await startEchoProcess({ cpus: SERVER_CPU });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "validator-vs-ws-"));
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const samples: Sample[][] = SIDES.map(() => []);
    try {
        console.log("| run | client | time to open all | handshakes/s | peak RSS | CPU |");
        console.log("| ---: | --- | ---: | ---: | ---: | ---: |");
        for (let run = 0; run <= RUNS; run++) {
            // A B, then B A: whichever runs second starts while the echo server may still be
            // tearing down the first's 10,000 connections, so each side takes each place as often.
            const order = run % 2 === 0 ? [0, 1] : [1, 0];
            for (const i of order) {
                const side = SIDES[i];
                const sample = await runSide(side, url, path.join(dir, `${run}-${i}.json`));
                const label = run === 0 ? "warm-up" : String(run);
                console.log(
                    `| ${label} | ${side.name} | ${sample.openSec.toFixed(2)} s | ${sample.rate.toFixed(0)}/s | ${mb(sample.maxRssBytes)} | ${sample.cpuSec.toFixed(2)} s |`,
                );
                if (run > 0) {
                    samples[i].push(sample);
                }
            }
        }
    } finally {
        server.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const [ours, plain] = samples;
    const ratios = (f: (s: Sample) => number) => ours.map((s, i) => f(s) / f(plain[i]));
    const paired = (f: (s: Sample) => number) => median(ratios(f));
    const rateRatios = ratios((s) => s.rate);
    const rateRatio = median(rateRatios);
    const [rateLow, rateHigh] = bootstrapMedian(rateRatios);
    const memoryRatio = paired((s) => s.maxRssBytes);
    const cpuRatio = paired((s) => s.cpuSec);
    console.log("");
    console.log(`| median of ${RUNS} | handshakes/s | peak RSS | CPU |`);
    console.log("| --- | ---: | ---: | ---: |");
    for (const [i, side] of SIDES.entries()) {
        console.log(
            `| ${side.name} | ${median(samples[i].map((s) => s.rate)).toFixed(0)}/s | ${mb(median(samples[i].map((s) => s.maxRssBytes)))} | ${median(samples[i].map((s) => s.cpuSec)).toFixed(2)} s |`,
        );
    }
    console.log(
        `| ${SIDES[0].name} / ${SIDES[1].name}, median of paired ratios | ${rateRatio.toFixed(3)}x | ${memoryRatio.toFixed(3)}x | ${cpuRatio.toFixed(3)}x |`,
    );
    console.log(
        `rate ratio: 95 % bootstrap interval of the median ${rateLow.toFixed(3)}x to ${rateHigh.toFixed(3)}x; single pairs ${Math.min(...rateRatios).toFixed(2)}x to ${Math.max(...rateRatios).toFixed(2)}x`,
    );
    console.log("");
    if (CALIBRATE) {
        console.log(
            `calibration: the same client in both places reads ${rateRatio.toFixed(3)}x rate and ${memoryRatio.toFixed(3)}x memory; a difference this size is this host's noise; load average at the end ${load()}`,
        );
        return;
    }
    console.log(
        `goal rate >= ${RATE_GOAL}x: ${rateRatio >= RATE_GOAL ? "met" : "MISSED"}; goal memory <= ${MEMORY_GOAL}x: ${memoryRatio <= MEMORY_GOAL ? "met" : "MISSED"}; load average at the end ${load()}`,
    );
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
