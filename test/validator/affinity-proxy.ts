import * as net from "net";

// A two-or-more-backend proxy on 127.0.0.1 that places WebSocket upgrades the way a load balancer
// with cookie affinity does: a request without the cookie goes round-robin and its answer sets
// the cookie naming the chosen backend; a request with the cookie goes to that backend. With
// `honourCookie: false` it still sets the cookie but ignores it (affinity configured, not working).

export interface AffinityProxy {
    readonly url: string;
    close(): Promise<void>;
}

export function startAffinityProxy(
    backendPorts: readonly number[],
    options: { honourCookie: boolean; cookieName?: string },
): Promise<AffinityProxy> {
    const cookieName = options.cookieName ?? "GCLB";
    const tokens = backendPorts.map((_, i) => `b${i}x${(0x5a17 * (i + 7)).toString(16)}`);
    let next = 0;
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => s.destroy());
    };

    const server = net.createServer((client) => {
        track(client);
        let head = Buffer.alloc(0);
        const onData = (chunk: Buffer) => {
            head = Buffer.concat([head, chunk]);
            const end = head.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            client.off("data", onData);
            client.pause();
            const requestHead = head.subarray(0, end).toString("latin1");
            const cookies = /^cookie:\s*(.*)$/im.exec(requestHead)?.[1] ?? "";
            const sent = cookies
                .split(";")
                .map((c) => c.trim())
                .find((c) => c.startsWith(`${cookieName}=`))
                ?.slice(cookieName.length + 1);
            const pinned = options.honourCookie && sent !== undefined ? tokens.indexOf(sent) : -1;
            const chosen = pinned >= 0 ? pinned : next++ % backendPorts.length;
            const upstream = net.connect(backendPorts[chosen], "127.0.0.1", () => {
                upstream.write(head);
                client.resume();
                client.pipe(upstream);
            });
            track(upstream);
            let answer = Buffer.alloc(0);
            const onAnswer = (data: Buffer) => {
                answer = Buffer.concat([answer, data]);
                const answerEnd = answer.indexOf("\r\n\r\n");
                if (answerEnd < 0) {
                    return;
                }
                upstream.off("data", onAnswer);
                const setCookie =
                    sent === undefined || pinned < 0
                        ? `\r\nSet-Cookie: ${cookieName}=${tokens[chosen]}; Path=/; HttpOnly`
                        : "";
                client.write(
                    Buffer.concat([
                        answer.subarray(0, answerEnd),
                        Buffer.from(setCookie, "latin1"),
                        answer.subarray(answerEnd),
                    ]),
                );
                upstream.pipe(client);
            };
            upstream.on("data", onAnswer);
            upstream.on("close", () => client.destroy());
            client.on("close", () => upstream.destroy());
        };
        client.on("data", onData);
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                url: `ws://127.0.0.1:${port}`,
                close: () =>
                    new Promise((done) => {
                        sockets.forEach((s) => s.destroy());
                        server.close(() => done());
                    }),
            });
        });
    });
}
