// The validator's echo server as WORKERS processes listening on one loopback port with
// SO_REUSEPORT, the kernel spreading connections over them. One process may hold at most its
// open-file limit of sockets (20,000 here, a hard limit this container cannot raise), so a load
// past that needs the server side spread too. (A Node cluster's round-robin primary accepts
// every connection itself and hands it over: measured here, it refused and timed out most of a
// 100,000-connection load.)
//
//   node -r ./cli/register.js bench/echo-cluster.ts WORKERS   (prints the port once all listen)
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { startEchoServer } from "../validator";
import { freePort } from "../test/validator/servers";

const ROOT = path.resolve(__dirname, "..");

async function primary(workers: number): Promise<void> {
    const port = await freePort();
    const children: ChildProcess[] = [];
    const stop = () => {
        children.forEach((c) => c.kill("SIGKILL"));
        process.exit(0);
    };
    process.on("SIGTERM", stop);
    await Promise.all(
        Array.from({ length: workers }, () => {
            const child = spawn(process.execPath, ["-r", "./cli/register.js", __filename, "--worker", String(port)], {
                cwd: ROOT,
                stdio: ["ignore", "pipe", "inherit"],
            });
            children.push(child);
            child.on("exit", (code) => {
                console.error(`echo worker ${child.pid} exited (${code})`);
                stop();
            });
            return new Promise((resolve) => child.stdout.once("data", resolve));
        }),
    );
    console.log(port);
}

if (process.argv[2] === "--worker") {
    void startEchoServer({ port: Number(process.argv[3]), reusePort: true }).then(() => console.log("ready"));
} else {
    void primary(Math.max(1, Math.min(64, Number(process.argv[2] ?? 4))));
}
