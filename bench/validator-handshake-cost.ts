// ws-validate's opening phase (validator/load.ts openConnections, what `--connections N` runs)
// against a plain `ws` client's (bench/plain-ws-client.ts openPlain), in one process, in turns.
// bench/validator-vs-ws.ts compares whole processes, and on a shared 2-core VM the host's speed
// moves by a fifth from one run to the next, more than the difference it looks for. Here both
// open BATCH connections at a time, unpaced, A B then B A, so each pair of batches is a fraction
// of a second apart under the same heap, the same JIT and the same open connections; a round
// opens BATCHES batches (10,000 connections by default) and closes them all before the next.
// The ratio per pair is plain's time for its batch over ws-validate's (its rate relative to the
// plain client's); the median over all pairs is printed with a 95 % bootstrap interval.
// The process is pinned to CLIENT_CPU and the echo server to SERVER_CPU. Loopback only.
//
//   npm run bench:handshake-cost
//   ROUNDS=20 BATCH=250 npm run bench:handshake-cost
//   CALIBRATE=1 npm run bench:handshake-cost    the plain client in both places: this host's noise
import { spawn } from "child_process";
import * as os from "os";
import { performance } from "perf_hooks";
import WebSocket from "ws";
import { closeSockets, SocketPool } from "../validator/core/connect";
import { newOpening, openConnections } from "../validator/core/load";
import { startEchoProcess } from "./echo-process";
import { closePlain, openPlain } from "./plain-ws-client";
import { bootstrapMedian, median } from "./stats";

const BATCH = Number(process.env.BATCH ?? 500);
const BATCHES = Number(process.env.BATCHES ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const CLIENT_CPU = process.env.CLIENT_CPU ?? "0";
const SERVER_CPU = process.env.SERVER_CPU ?? "1";
const CALIBRATE = process.env.CALIBRATE === "1";
const RATE_GOAL = 0.97;
const PINNED = "VALIDATOR_HANDSHAKE_COST_PINNED";

interface Batch {
    readonly wallSec: number;
    readonly cpuSec: number;
}

type Opener = (url: string, pool: SocketPool, held: WebSocket[]) => Promise<void>;

const ours: Opener = async (url, pool, held) => {
    const opening = newOpening();
    await openConnections(
        [url],
        { connections: BATCH, rate: 1e9, sockets: pool, handshakeTimeoutMs: 120_000 },
        opening,
    );
    if (opening.sockets.length !== BATCH) {
        throw new Error(
            `ws-validate opened ${opening.sockets.length} of ${BATCH}: ${JSON.stringify(opening.failuresByCode)}`,
        );
    }
    held.push(...opening.sockets);
};

const plain: Opener = async (url, _pool, held) => {
    const { failed, firstError } = await openPlain(url, BATCH, held);
    if (failed > 0) {
        throw new Error(`the plain client failed ${failed} of ${BATCH}, the first with: ${firstError}`);
    }
};

const SIDES: readonly { name: string; open: Opener }[] = CALIBRATE
    ? [
          { name: "plain ws (A)", open: plain },
          { name: "plain ws (B)", open: plain },
      ]
    : [
          { name: "ws-validate", open: ours },
          { name: "plain ws", open: plain },
      ];

async function timed(open: () => Promise<void>): Promise<Batch> {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await open();
    const wallSec = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return { wallSec, cpuSec: (used.user + used.system) / 1e6 };
}

async function measure(): Promise<void> {
    const cpus = os.cpus();
    console.log(
        `machine: ${cpus.length}x ${cpus[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(", ")}`,
    );
    console.log(
        `work: ${ROUNDS} rounds after a warm-up one, each ${BATCHES} batches of ${BATCH} connections unpaced to 127.0.0.1 (${BATCH * BATCHES} open at its end), ${SIDES[0].name} and ${SIDES[1].name} in turns A B, B A; this process on CPU ${CLIENT_CPU}, echo server on CPU ${SERVER_CPU}`,
    );
    const server = await startEchoProcess({ cpus: SERVER_CPU });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const batches: Batch[][] = [[], []];
    try {
        for (let round = 0; round <= ROUNDS; round++) {
            const pool = new SocketPool();
            const held: WebSocket[][] = [[], []];
            for (let pair = 0; pair < BATCHES / 2; pair++) {
                const order = pair % 2 === 0 ? [0, 1] : [1, 0];
                for (const i of order) {
                    const batch = await timed(() => SIDES[i].open(url, pool, held[i]));
                    if (round > 0) {
                        batches[i].push(batch);
                    }
                }
            }
            await Promise.all([closeSockets(held[0], 5000), closePlain(held[1])]);
            pool.terminateAll();
        }
    } finally {
        server.stop();
    }
    const [a, b] = batches;
    const rateRatios = a.map((x, i) => b[i].wallSec / x.wallSec);
    const cpuRatios = a.map((x, i) => x.cpuSec / b[i].cpuSec);
    const [low, high] = bootstrapMedian(rateRatios);
    const perHandshake = (side: Batch[], f: (x: Batch) => number) => ((median(side.map(f)) / BATCH) * 1e6).toFixed(0);
    console.log("");
    console.log(
        `| ${a.length} pairs of ${BATCH} | µs per handshake, wall (median batch) | µs per handshake, CPU | busy |`,
    );
    console.log("| --- | ---: | ---: | ---: |");
    for (const [i, side] of SIDES.entries()) {
        const busy = median(batches[i].map((x) => x.cpuSec / x.wallSec));
        console.log(
            `| ${side.name} | ${perHandshake(batches[i], (x) => x.wallSec)} | ${perHandshake(batches[i], (x) => x.cpuSec)} | ${(busy * 100).toFixed(0)} % |`,
        );
    }
    const rate = median(rateRatios);
    console.log("");
    console.log(
        `${SIDES[0].name} / ${SIDES[1].name}, median of paired ratios: rate ${rate.toFixed(3)}x (95 % interval ${low.toFixed(3)}x to ${high.toFixed(3)}x; pairs ${Math.min(...rateRatios).toFixed(2)}x to ${Math.max(...rateRatios).toFixed(2)}x), CPU ${median(cpuRatios).toFixed(3)}x`,
    );
    if (!CALIBRATE) {
        console.log(
            `goal rate >= ${RATE_GOAL}x: ${rate >= RATE_GOAL ? (low >= RATE_GOAL ? "met, the whole interval above it" : "met by the median, the interval reaching below it") : "MISSED"}`,
        );
    }
}

// Pinned to one CPU by running again under taskset, so the event loop and V8's helper threads
// share one core as a load run's do.
if (process.env[PINNED] === "1") {
    measure().catch((e: unknown) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    });
} else {
    const child = spawn("taskset", ["-c", CLIENT_CPU, process.execPath, ...process.execArgv, __filename], {
        stdio: "inherit",
        env: { ...process.env, [PINNED]: "1" },
    });
    child.once("error", (e) => {
        console.error(`taskset: ${e.message}`);
        process.exit(1);
    });
    child.once("exit", (code) => process.exit(code ?? 1));
}
