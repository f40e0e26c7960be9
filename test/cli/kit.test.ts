import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOutputPath, EXIT, FlagError, parseFlags, writeOutputFile } from "../../cli/kit";
import { closest } from "../../cli/suggest";
import { main as deployMain, USAGE as DEPLOY_USAGE } from "../../deploy/cli";
import { main as previewMain, USAGE as PREVIEW_USAGE } from "../../preview/cli";
import { main as validateMain, USAGE as VALIDATE_USAGE } from "../../validator/cli";

describe("cli kit: what the three commands share", () => {
    const commands = [
        ["validate", VALIDATE_USAGE, validateMain, "ws-validate"],
        ["preview:offline", PREVIEW_USAGE, previewMain, "preview:offline"],
        ["deploy", DEPLOY_USAGE, deployMain, "deploy"],
    ] as const;

    for (const [name, usage, main, versionName] of commands) {
        it(`${name}: the help has the same parts as the others, and -h, --help and --version answer`, async () => {
            for (const part of [
                /^usage: /,
                /^options:$/m,
                /^ {2}-h, --help +show this help$/m,
                /^ {6}--version +print the version$/m,
                /--no-color/,
                /^examples:\n {2}\S/m,
                /Ctrl-C or SIGTERM/,
            ]) {
                assert.match(usage, part);
            }
            // Every exit code the command can return is named, 130 included.
            assert.match(usage, /exit codes: 0 [^]*\b130 interrupted$/);
            const out: string[] = [];
            const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), env: {} };
            assert.equal(await main(["-h"], io), EXIT.ok);
            assert.equal(await main(["--help"], io), EXIT.ok);
            assert.equal(await main(["--version"], io), EXIT.ok);
            assert.deepEqual(out, [usage, usage, `${versionName} 0.1.0`]);
        });
    }

    it("colours the verdict on a terminal that takes colour, and not with --no-color or --json", async () => {
        const run = async (...args: string[]) => {
            let out = "";
            const code = await validateMain(
                [
                    "local",
                    "--endpoints",
                    "/ws",
                    "--hold",
                    "0",
                    "--threshold",
                    "message_latency_p95_ms<60000",
                    "--threshold",
                    "handshake_p95_ms<60000",
                    ...args,
                ],
                { out: (t) => (out += t), err: () => undefined, env: {}, color: true },
            );
            assert.equal(code, 0, out);
            return out;
        };
        // Plain substrings, not regexes: an escape character in a regex reads as a mistake.
        const coloured = await run();
        assert.ok(coloured.includes("\x1b[32mverdict: PASS (exit 0)\x1b[0m"), coloured);
        for (const flag of ["--no-color", "--json"]) {
            const plain = await run(flag);
            assert.ok(!plain.includes("\x1b["), plain);
        }
    });

    it("names the closest flag for a typo, and none for a wild guess", () => {
        const options = {
            stack: { type: "string" },
            "policy-pack": { type: "string" },
            json: { type: "boolean" },
        } as const;
        assert.throws(
            () => parseFlags(["--stak", "x"], options),
            (e: Error) => e instanceof FlagError && e.message === "unknown flag --stak; did you mean --stack?",
        );
        assert.throws(
            () => parseFlags(["--frobnicate"], options),
            (e: Error) => e.message === "unknown flag --frobnicate",
        );
        assert.throws(
            () => parseFlags(["--json=yes"], options),
            (e: Error) => e.message === "--json takes no value",
        );
        assert.throws(
            () => parseFlags(["--stack"], options),
            (e: Error) => e.message === "--stack needs a value",
        );
        // A flag with a short form is quoted by Node as "-s, --stack <value>": the message names the long one.
        for (const argv of [["--stack"], ["-s"]]) {
            assert.throws(
                () => parseFlags(argv, { ...options, stack: { type: "string", short: "s" } }),
                (e: Error) => e.message === "--stack needs a value",
                argv[0],
            );
        }
        assert.equal(closest("alertEmail", ["alertEmails", "domains"]), "alertEmails");
        assert.equal(closest("zzz", ["alertEmails", "domains"]), undefined);
    });

    it("checks an output path before work and writes it whole or not at all", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kit-"));
        assert.throws(() => checkOutputPath("report", path.join(dir, "missing", "r.json")), /folder .* does not exist/);
        assert.throws(() => checkOutputPath("report", dir), /is a folder; expected a file path/);
        const file = path.join(dir, "r.json");
        checkOutputPath("report", file);
        assert.equal(writeOutputFile("report", file, "{}\n"), undefined);
        assert.equal(fs.readFileSync(file, "utf8"), "{}\n");
        fs.rmSync(dir, { recursive: true });
        assert.match(
            writeOutputFile("report", file, "{}\n") ?? "",
            /could not write it \(ENOENT\); the run's result above stands/,
        );
    });
});
