import { strict as assert } from "assert";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { Report } from "../../validator/report";
import { AffinityProxy, startAffinityProxy } from "./affinity-proxy";
import { ChatServer, startChatServer } from "./chat-server";

async function validate(args: string[]): Promise<{ code: number; out: string; err: string; report?: Report }> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env: {} });
    assert.equal(liveCount(), 0, "a socket was left open");
    return { code, out, err, report: args.includes("--json") && code !== 2 ? (JSON.parse(out) as Report) : undefined };
}

describe("validator --affinity: the load balancer's cookie, checked through local two-backend proxies", function () {
    this.timeout(60_000);
    let blue: ChatServer;
    let green: ChatServer;
    const proxies: AffinityProxy[] = [];
    before(async () => {
        blue = await startChatServer({ backendId: "blue" });
        green = await startChatServer({ backendId: "green" });
    });
    after(async () => {
        await Promise.all(proxies.map((p) => p.close()));
        await Promise.all([blue.close(), green.close()]);
    });
    const proxy = async (honourCookie: boolean, cookieName?: string) => {
        const p = await startAffinityProxy([blue.port, green.port], { honourCookie, cookieName });
        proxies.push(p);
        return p;
    };

    it("passes through a proxy that honours the cookie: every reconnection reaches the first backend, and two backends answer without it", async () => {
        const p = await proxy(true);
        const run = await validate(["--url", p.url, "--affinity", "6", "--json"]);
        assert.equal(run.code, 0, run.out + run.err);
        const a = run.report!.affinity!;
        assert.equal(a.verdict, "sticky");
        assert.equal(a.withCookie.length, 6);
        assert.ok(a.withCookie.every((b) => b === a.firstBackend));
        assert.deepEqual(Object.keys(a.withoutCookie).sort(), ["blue", "green"]);
        assert.match(a.setCookie!, /^GCLB=/);
    });

    it("fails through a proxy that sets the cookie but ignores it, naming the backends reached", async () => {
        const p = await proxy(false);
        const run = await validate(["--url", p.url, "--affinity", "6"]);
        assert.equal(run.code, 1);
        assert.match(
            run.out,
            /affinity \/ws \(cookie GCLB\): not-sticky: 3 of 6 reconnection\(s\) that sent GCLB reached another backend than (blue|green)/,
        );
        assert.match(run.out, /without the cookie 6 connection\(s\) reached 2 backend\(s\)/);
        assert.match(run.out, /verdict: FAIL \(exit 1\)/);
    });

    it("reads the backend from the first message with --backend-id json:server, and a configured cookie name", async () => {
        const p = await proxy(true, "chat_affinity");
        const sticky = await validate([
            "--url",
            p.url,
            "--affinity",
            "4",
            "--affinity-cookie",
            "chat_affinity",
            "--backend-id",
            "json:server",
            "--json",
        ]);
        assert.equal(sticky.report!.affinity!.verdict, "sticky", sticky.out);

        const wrongName = await validate(["--url", p.url, "--affinity", "2", "--json"]);
        assert.equal(wrongName.code, 1);
        assert.equal(wrongName.report!.affinity!.verdict, "no-cookie");
        assert.match(wrongName.report!.affinity!.summary, /set no GCLB cookie \(cookies set: chat_affinity\)/);
    });

    it("says so when nothing names the backend, and rejects a bad --backend-id", async () => {
        const p = await proxy(true);
        const run = await validate(["--url", p.url, "--affinity", "2", "--backend-id", "header:x-served-by", "--json"]);
        assert.equal(run.code, 1);
        assert.equal(run.report!.affinity!.verdict, "no-backend-id");
        const bad = await validate(["--url", p.url, "--affinity", "2", "--backend-id", "server"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /^error: --backend-id "server": expected header:NAME .* or json:FIELD/);
    });
});
