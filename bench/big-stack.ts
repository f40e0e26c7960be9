// Writes a stack with N backends for the scaling benchmark: one WebSocket backend on a managed
// instance group and N-1 backends on existing instance groups, each at its own paths. The file
// goes to a fresh temp folder, never beside the project's own stack files, and is meant for the
// offline preview's --stack-file.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const BIG_STACK = "big";

export function bigStackYaml(backends: number): string {
    if (!Number.isInteger(backends) || backends < 1 || backends > 9999) {
        throw new Error(`backends is ${backends}; allowed: an integer from 1 to 9999`);
    }
    const lines = [
        "config:",
        "  gcp:project: example-chat-bench",
        "  gcp:region: us-central1",
        "  websocket-lb:domains:",
        "    - bench.chat.example.com",
        "  websocket-lb:backends:",
        "    api:",
        "      kind: instanceGroup",
        "      websocket: true",
        '      paths: ["/api", "/api/*"]',
        "      image: us-docker.pkg.dev/example-chat-bench/chat/api:1.0.0",
        "      region: us-central1",
    ];
    for (let i = 1; i < backends; i++) {
        const name = `svc-${String(i).padStart(4, "0")}`;
        lines.push(
            `    ${name}:`,
            "      kind: groups",
            `      paths: ["/${name}", "/${name}/*"]`,
            `      groups: ["projects/example-chat-bench/zones/us-central1-a/instanceGroups/${name}"]`,
        );
    }
    return lines.join("\n") + "\n";
}

/** Writes `Pulumi.big.yaml` with `backends` backends into a new temp folder and returns its path. */
export function writeBigStack(backends: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "websocket-lb-bench-"));
    const file = path.join(dir, `Pulumi.${BIG_STACK}.yaml`);
    fs.writeFileSync(file, bigStackYaml(backends));
    return file;
}

if (require.main === module) {
    console.log(writeBigStack(Number(process.argv[2] ?? 1000)));
}
