// The baseline for bench/validator-vs-ws.ts: the least a `ws` client can do for the same load.
// Opens CONNECTIONS sockets to URL as fast as it can, waits for every open, holds HOLD seconds,
// closes them all and prints what ws-validate's report says of its load, as JSON on stdout.
//
//   plain-ws-client.ts URL CONNECTIONS HOLD
import { performance } from "perf_hooks";
import WebSocket from "ws";

async function main(url: string, connections: number, holdSec: number): Promise<void> {
    const sockets: WebSocket[] = [];
    const started = performance.now();
    let settled = 0;
    let failed = 0;
    await new Promise<void>((resolve) => {
        const settle = () => {
            settled += 1;
            if (settled === connections) {
                resolve();
            }
        };
        for (let i = 0; i < connections; i++) {
            const ws = new WebSocket(url);
            sockets.push(ws);
            ws.once("open", settle);
            ws.once("error", () => {
                failed += 1;
                settle();
            });
        }
    });
    const openSec = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, holdSec * 1000));
    const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
    await Promise.all(open.map((ws) => new Promise((resolve) => {
        ws.once("close", resolve);
        ws.close(1000, "done");
    })));
    console.log(JSON.stringify({ requested: connections, opened: connections - failed, survived: open.length, openSec }));
}

const [url, connections, hold] = process.argv.slice(2);
main(url, Number(connections), Number(hold)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
