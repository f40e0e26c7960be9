// The baseline for bench/validator-vs-ws.ts: the least a `ws` client can do for the same load.
// Opens CONNECTIONS sockets to URL as fast as it can, waits for every open, holds HOLD seconds,
// closes them all and prints what ws-validate's report says of its load, as JSON on stdout.
// bench/validator-handshake-cost.ts uses its opening phase (openPlain) in a process of its own.
//
//   plain-ws-client.ts URL CONNECTIONS HOLD
import { performance } from "perf_hooks";
import WebSocket from "ws";

/** Opens `connections` sockets to `url` at once and resolves when every one has opened or failed. */
export function openPlain(
    url: string,
    connections: number,
    sockets: WebSocket[],
): Promise<{ failed: number; firstError?: string }> {
    let settled = 0;
    let failed = 0;
    let firstError: string | undefined;
    return new Promise((resolve) => {
        const settle = () => {
            settled += 1;
            if (settled === connections) {
                resolve({ failed, firstError });
            }
        };
        for (let i = 0; i < connections; i++) {
            const ws = new WebSocket(url);
            sockets.push(ws);
            ws.once("open", settle);
            ws.once("error", (e) => {
                failed += 1;
                firstError ??= e.message;
                settle();
            });
        }
    });
}

/** Closes every socket still open and resolves, once all have closed, to how many were open. */
export async function closePlain(sockets: readonly WebSocket[]): Promise<number> {
    const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
    await Promise.all(
        open.map(
            (ws) =>
                new Promise((resolve) => {
                    ws.once("close", resolve);
                    ws.close(1000, "done");
                }),
        ),
    );
    return open.length;
}

async function main(url: string, connections: number, holdSec: number): Promise<void> {
    const sockets: WebSocket[] = [];
    const started = performance.now();
    const { failed } = await openPlain(url, connections, sockets);
    const openSec = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, holdSec * 1000));
    const survived = await closePlain(sockets);
    console.log(JSON.stringify({ requested: connections, opened: connections - failed, survived, openSec }));
}

if (require.main === module) {
    const [url, connections, hold] = process.argv.slice(2);
    main(url, Number(connections), Number(hold)).catch((e: unknown) => {
        console.error(e);
        process.exit(1);
    });
}
