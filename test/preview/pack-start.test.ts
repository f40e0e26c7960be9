import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningPack } from "../../preview";

/** A stand-in pack: its run-policy-pack prints a port at once, notes that it did, and waits. */
function fakePack(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pack-"));
    const entry = path.join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    fs.mkdirSync(entry, { recursive: true });
    fs.writeFileSync(
        path.join(entry, "index.js"),
        'console.log(45678);\nrequire("fs").writeFileSync("printed", "");\nsetInterval(() => undefined, 1000);\n',
    );
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fake", main: "index.js" }));
    return dir;
}

describe("preview: starting a pack while the program holds the event loop", function () {
    this.timeout(90_000);

    it("takes the port that waited in the pipe past the bound, and times the start by the pack's own clock", async () => {
        const dir = fakePack();
        const started = Date.now();
        const starting = RunningPack.start(dir, 50);
        // The program's part: hold the event loop until the pack has printed, well past the bound.
        while (!fs.existsSync(path.join(dir, "printed")) && Date.now() - started < 60_000) {
            // busy, as a large program is
        }
        const held = Date.now() - started + 200;
        while (Date.now() - started < held) {
            // and a little longer
        }
        const pack = await starting.ready;
        try {
            assert.ok(
                pack.startMs < held,
                `startMs ${pack.startMs} is the pack's moment, not when the preview got to read it (${held})`,
            );
        } finally {
            pack.stop();
        }
    });
});
