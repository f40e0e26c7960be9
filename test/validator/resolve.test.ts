import { strict as assert } from "assert";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as tls from "tls";
import { WebSocketServer } from "ws";
import { main } from "../../validator/cli";
import { liveCount } from "../../validator/core/connect";
import { Report } from "../../validator";
import { hasBinary, selfSignedCertificate } from "./servers";

const HOST = "chat.example.test";

async function validate(args: string[]): Promise<{ code: number; err: string; report?: Report }> {
    let out = "";
    let err = "";
    const code = await main(args, { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env: {} });
    assert.equal(liveCount(), 0, "a socket was left open");
    return { code, err, report: code === 2 ? undefined : (JSON.parse(out) as Report) };
}

describe("validator: --resolve HOST:PORT:ADDRESS proves an endpoint by its address before DNS", function () {
    this.timeout(30_000);
    let server: https.Server;
    let port: number;
    let certFile: string;
    let certDir: string | undefined;
    /** What the server saw of each upgrade: the Host header and the TLS server name (SNI). */
    const seen: Array<{ host?: string; sni: string | false | null }> = [];

    before(async function () {
        if (!hasBinary("openssl")) {
            console.warn("      SKIPPED: openssl is not installed (apt-get install -y openssl); CI installs it");
            this.skip();
        }
        // A certificate for the host name only: a check made against 127.0.0.1 would fail.
        const cert = selfSignedCertificate(HOST);
        certDir = cert.dir;
        certFile = cert.certFile;
        server = https.createServer({ cert: cert.cert, key: cert.key });
        const wss = new WebSocketServer({ server });
        wss.on("connection", (ws, req) => {
            seen.push({ host: req.headers.host, sni: (req.socket as tls.TLSSocket).servername });
            ws.on("message", (d, binary) => ws.send(d, { binary }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
        server?.closeAllConnections();
        await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
        if (certDir) {
            fs.rmSync(certDir, { recursive: true, force: true });
        }
    });

    it("connects to the address while Host, SNI and the certificate check use the URL's host", async () => {
        seen.length = 0;
        const run = await validate([
            "--url",
            `wss://${HOST}:${port}`,
            "--resolve",
            `${HOST}:${port}:127.0.0.1`,
            "--ca",
            certFile,
            "--endpoints",
            "/ws",
            "--messages",
            "2",
            "--hold",
            "0",
            "--json",
        ]);
        assert.equal(run.code, 0, run.err);
        assert.equal(run.report!.endpoints[0].handshake.status, 101);
        assert.equal(run.report!.endpoints[0].roundTrip?.received, 2);
        assert.ok(seen.length > 0);
        for (const s of seen) {
            assert.deepEqual(s, { host: `${HOST}:${port}`, sni: HOST });
        }
        // No name was looked up: the address came from --resolve.
        assert.equal(run.report!.endpoints[0].handshake.timings.dnsMs, undefined);
    });

    it("still verifies the certificate for the URL's host: another name on the same address fails TLS", async () => {
        const other = "other.example.test";
        const run = await validate([
            "--url",
            `wss://${other}:${port}`,
            "--resolve",
            `${other}:${port}:127.0.0.1`,
            "--ca",
            certFile,
            "--endpoints",
            "/ws",
            "--messages",
            "1",
            "--hold",
            "0",
            "--json",
        ]);
        assert.equal(run.code, 1);
        const [failure] = run.report!.endpoints[0].failures;
        assert.equal(failure.code, "TLS_FAILED");
        assert.equal(failure.evidence.errorCode, "ERR_TLS_CERT_ALTNAME_INVALID");
    });

    for (const bad of [
        "chat.example.test:443",
        "chat.example.test:0:127.0.0.1",
        "chat.example.test:443:not-an-ip",
        ":443:127.0.0.1",
    ]) {
        it(`refuses --resolve ${JSON.stringify(bad)} with one line naming the flag, the value and the form`, async () => {
            const run = await validate(["--url", `wss://${HOST}:${port}`, "--resolve", bad, "--json"]);
            assert.equal(run.code, 2);
            assert.match(
                run.err,
                new RegExp(
                    `^error: --resolve ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: expected HOST:PORT:ADDRESS`,
                ),
            );
        });
    }
});
