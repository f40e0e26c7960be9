import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";
import { parseDocument } from "yaml";
import { bigStackYaml } from "../../bench/big-stack";
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
