import * as net from "net";

export interface CapProxy {
    readonly port: number;
    /** Stops listening and cuts every open connection. */
    close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that cuts every connection `cutAfterSec` after it opened, whatever
 * the traffic (null: never): how a load balancer's backend timeout treats a WebSocket. The cut
 * is a TCP close with no WebSocket close frame, so clients see 1006. Either setting may be a
 * function, read for each new connection: a rolling replacement sends new connections to the new
 * backend while old ones stay where they are, as a load balancer does.
 */
export function startCapProxy(options: {
    targetPort: number | (() => number);
    cutAfterSec: number | null | (() => number | null);
    port?: number;
}): Promise<CapProxy> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
        const targetPort = typeof options.targetPort === "function" ? options.targetPort() : options.targetPort;
        const cutAfterSec = typeof options.cutAfterSec === "function" ? options.cutAfterSec() : options.cutAfterSec;
        const upstream = net.connect(targetPort, "127.0.0.1");
        for (const s of [client, upstream]) {
            sockets.add(s);
            s.on("close", () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
        const end = () => {
            clearTimeout(timer);
            client.destroy();
            upstream.destroy();
        };
        const timer = cutAfterSec === null ? undefined : setTimeout(end, cutAfterSec * 1000);
        client.on("close", end).on("error", end);
        upstream.on("close", end).on("error", end);
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () =>
            resolve({
                port: (server.address() as net.AddressInfo).port,
                close: () =>
                    new Promise((done) => {
                        sockets.forEach((s) => s.destroy());
                        server.close(() => done());
                    }),
            }),
        );
    });
}
