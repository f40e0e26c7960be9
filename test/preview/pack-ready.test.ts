import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "../helpers/cli";

describe("preview: the pack stamps when it printed its port, in its own process", () => {
    it("writes pack-ready-at with its own clock just before the port line, once, and nothing else", () => {
        const before = Date.now();
        const result = spawnSync(
            process.execPath,
            [
                "-r",
                path.join(ROOT, "preview", "pack-ready.js"),
                "-e",
                "console.log('starting'); console.log(43210); console.log(99)",
            ],
            { encoding: "utf8" },
        );
        const after = Date.now();
        assert.equal(result.status, 0, result.stderr);
        const lines = result.stdout.trim().split("\n");
        assert.equal(lines.length, 4, result.stdout);
        assert.deepEqual([lines[0], lines[2], lines[3]], ["starting", "43210", "99"]);
        const stamp = /^pack-ready-at (\d+)$/.exec(lines[1]);
        assert.ok(stamp, lines[1]);
        assert.ok(Number(stamp[1]) >= before && Number(stamp[1]) <= after);
    });
});
