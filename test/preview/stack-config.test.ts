import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { parseDocument } from "yaml";
import { bigStackYaml } from "../../bench/big-stack";
import { UsageError } from "../../cli/kit";
import { loadStackConfig } from "../../preview";
import { ROOT } from "../helpers/cli";

// The stack files are read with js-yaml (fast) and their errors reported through yaml (its
// messages name the line); both must read the same documents alike.
describe("preview: stack files read alike by js-yaml's core schema and yaml", () => {
    const files = [
        ...fs
            .readdirSync(ROOT)
            .filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))
            .map((f) => path.join(ROOT, f)),
        ...fs
            .readdirSync(path.join(ROOT, "test", "preview", "fixtures"))
            .filter((f) => f.endsWith(".yaml"))
            .map((f) => path.join(ROOT, "test", "preview", "fixtures", f)),
    ];

    it("covers the project's stack files", () => {
        assert.ok(
            files.some((f) => f.endsWith("Pulumi.staging.yaml")) &&
                files.some((f) => f.endsWith("Pulumi.production.yaml")) &&
                files.length >= 4,
            files.join(", "),
        );
    });

    for (const file of files) {
        it(path.relative(ROOT, file), () => {
            const text = fs.readFileSync(file, "utf8");
            assert.deepEqual(load(text, { schema: CORE_SCHEMA }), parseDocument(text).toJS());
        });
    }

    it("a generated 100-backend stack", () => {
        const text = bigStackYaml(100);
        assert.deepEqual(load(text, { schema: CORE_SCHEMA }), parseDocument(text).toJS());
    });

    it("values a 1.1 parser would turn into booleans, dates or octals stay as yaml reads them", () => {
        const text = [
            "a: yes",
            "b: 2026-12-01",
            "c: 0755",
            "d: 0o755",
            "e: ~",
            "f: .inf",
            "g: '86400'",
            "h: 86400",
            "",
        ].join("\n");
        assert.deepEqual(load(text, { schema: CORE_SCHEMA }), parseDocument(text).toJS());
    });
});

describe("preview: a stack file that is not what the CLI reads is one line naming it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const load = (text: string) => {
        const file = path.join(dir, "Pulumi.bad.yaml");
        fs.writeFileSync(file, text);
        try {
            loadStackConfig({ projectDir: ROOT, stack: "bad", stackFile: file });
        } catch (e) {
            assert.ok(e instanceof UsageError, String(e));
            return e.message.replace(file, "FILE");
        }
        return assert.fail("the stack file was accepted");
    };

    it("config: 7 says the config must be a mapping", () => {
        assert.match(
            load("config: 7\n"),
            /^FILE: config is 7; the stack file's config must be a mapping of key to value/,
        );
        assert.match(
            load("config: [a, b]\n"),
            /^FILE: config is \["a","b"\]; the stack file's config must be a mapping/,
        );
    });

    it("malformed YAML is one complete line: file, line and column, then what is wrong", () => {
        for (const [text, position, message] of [
            ["config:\n  a: b: c\n", "2:6", "Nested mappings are not allowed in compact mappings"],
            ["config:\n\tx: 1\n", "2:1", "Tabs are not allowed as indentation"],
            ["config:\n  a: 'x\n", "3:1", "Missing closing 'quote"],
        ]) {
            const error = load(text);
            assert.equal(error, `FILE:${position}: malformed YAML: ${message}`);
            assert.doesNotMatch(error, /\n|:$/);
        }
    });
});
