import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { CliIo } from "../../cli/kit";
import { executionTimeoutSec, main, planLoad } from "../../load/cli";
import { shareOf, taskPlan, validatorArgs } from "../../load/task";
import { shardObjectName, taskOfObject } from "../../load/storage";

// npm run load's refusals: every one exit 2 with one line, before anything reaches Cloud Run (a
// server here counts connections and must see none). The end-to-end runs are in job.load.ts
// (npm run test:load), which needs fake-gcs-server built.

async function runLoad(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; err: string }> {
    const lines: string[] = [];
    const io: CliIo = { out: () => undefined, err: (t) => lines.push(t), env };
    const code = await main(argv, io);
    return { code, err: lines.join("\n") };
}

describe("npm run load: refusals before anything runs", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "load-flags-"));
    const outputs = path.join(dir, "outputs.json");
    const noLoadTest = path.join(dir, "plain.json");
    let connections = 0;
    const server = net.createServer((s) => {
        connections += 1;
        s.destroy();
    });
    let env: NodeJS.ProcessEnv;

    before(async () => {
        fs.writeFileSync(
            outputs,
            JSON.stringify({
                loadTest: { project: "p", region: "r", job: "projects/p/locations/r/jobs/j", bucket: "b" },
            }),
        );
        fs.writeFileSync(noLoadTest, JSON.stringify({ ipAddress: "203.0.113.7" }));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const port = (server.address() as net.AddressInfo).port;
        env = { CLOUD_RUN_EMULATOR_HOST: `127.0.0.1:${port}`, STORAGE_EMULATOR_HOST: `http://127.0.0.1:${port}` };
    });
    after(() => {
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(connections, 0, "a refused run reached the server");
    });

    const base = () => ["--stack", "staging", "--stack-outputs", outputs, "--tasks", "3", "--connections", "30"];
    const cases: Array<[string, () => string[], () => NodeJS.ProcessEnv, RegExp]> = [
        ["no --stack", () => ["--tasks", "2", "--connections", "4"], () => env, /^error: --stack is required/],
        [
            "--tasks 0",
            () => [...base(), "--tasks", "0"],
            () => env,
            /--tasks "0": expected a whole number of tasks from 1 to 10000/,
        ],
        [
            "--tasks 1e9",
            () => [...base(), "--tasks", "1e9"],
            () => env,
            /--tasks "1e9": expected a whole number of tasks from 1 to 10000/,
        ],
        [
            "fewer connections than tasks",
            () => [...base(), "--connections", "2"],
            () => env,
            /--connections 2: with --tasks 3, give 3 to 3000000/,
        ],
        ["--hold -1", () => [...base(), "--hold", "-1"], () => env, /--hold "-1": expected seconds from 0 to 86400/],
        [
            "--rate 0",
            () => [...base(), "--rate", "0"],
            () => env,
            /--rate "0": expected connections per second from 0.01/,
        ],
        [
            "--url http://",
            () => [...base(), "--url", "http://x"],
            () => env,
            /--url "http:\/\/x": expected a ws:\/\/ or wss:\/\/ URL/,
        ],
        ["a bad threshold", () => [...base(), "--threshold", "nope<1"], () => env, /nope/],
        [
            "one file for both reports",
            () => [...base(), "--report", path.join(dir, "r"), "--report-html", path.join(dir, "r")],
            () => env,
            /--report and --report-html are both .*: give each its own file/,
        ],
        [
            "no credentials",
            () => base(),
            () => ({ HOME: dir }),
            /^error: no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and .*application_default_credentials\.json does not exist/,
        ],
        [
            "a credentials file that is not there",
            () => base(),
            () => ({ HOME: dir, GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, "missing.json") }),
            /^error: GOOGLE_APPLICATION_CREDENTIALS=.*missing\.json: no such file/,
        ],
        [
            "one local server without the other",
            () => base(),
            () => ({ CLOUD_RUN_EMULATOR_HOST: env.CLOUD_RUN_EMULATOR_HOST }),
            /CLOUD_RUN_EMULATOR_HOST is set but STORAGE_EMULATOR_HOST is not/,
        ],
        [
            "a stack without loadTest",
            () => [...base().slice(0, 2), "--stack-outputs", noLoadTest, "--tasks", "3", "--connections", "30"],
            () => env,
            /^error: stack staging has no load job \(--stack-outputs .* has no loadTest output\): set websocket-lb:loadTest in Pulumi\.staging\.yaml/,
        ],
    ];
    for (const [name, argv, envOf, message] of cases) {
        it(`refuses ${name}: exit 2, one line`, async () => {
            const { code, err } = await runLoad(argv(), envOf());
            assert.equal(code, 2, err);
            assert.match(err, message);
            assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
        });
    }
});

describe("the load job's shares and task environment", () => {
    it("shares the connections so they add up to the total and differ by at most one", () => {
        for (const [total, count] of [
            [100_000, 6],
            [60, 3],
            [7, 7],
            [25_000, 20],
        ]) {
            const shares = Array.from({ length: count }, (_, i) => shareOf(total, i, count));
            assert.equal(
                shares.reduce((a, b) => a + b, 0),
                total,
            );
            assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
        }
    });

    it("reads a task's plan from Cloud Run's variables and the execution's, refusing a wrong one by name", () => {
        const now = new Date("2026-12-06T12:00:00Z");
        const env = {
            CLOUD_RUN_TASK_INDEX: "1",
            CLOUD_RUN_TASK_COUNT: "3",
            LOAD_BUCKET: "b",
            LOAD_TARGET_URL: "wss://chat.example.com/ws",
            LOAD_RUN_ID: "20261206-abc",
            LOAD_CONNECTIONS: "100",
            LOAD_RATE: "300",
            LOAD_HOLD_SEC: "60",
            LOAD_START_AT: "2026-12-06T12:01:00Z",
        };
        const plan = taskPlan(env, now);
        assert.equal(plan.connections, 33);
        assert.equal(plan.rate, 100);
        assert.deepEqual(validatorArgs(plan, "/tmp/s.json").slice(0, 7), [
            "wss://chat.example.com/ws",
            "--connections",
            "33",
            "--rate",
            "100",
            "--hold",
            "60",
        ]);
        assert.throws(
            () => taskPlan({ ...env, CLOUD_RUN_TASK_INDEX: "3" }, now),
            /CLOUD_RUN_TASK_INDEX="3": expected a whole number from 0 to 2/,
        );
        assert.throws(
            () => taskPlan({ ...env, LOAD_START_AT: "2026-12-06T14:00:00Z" }, now),
            /LOAD_START_AT=.*at most 3600 s ahead/,
        );
        assert.throws(() => taskPlan({ ...env, LOAD_BUCKET: "" }, now), /LOAD_BUCKET is not set/);
        assert.throws(() => taskPlan({ ...env, LOAD_RUN_ID: "../x" }, now), /LOAD_RUN_ID="..\/x"/);
    });

    it("names each task's shard so a listing finds exactly the run's shards", () => {
        assert.equal(shardObjectName("r1", 7), "runs/r1/task-00007.json");
        assert.equal(taskOfObject("r1", "runs/r1/task-00007.json"), 7);
        assert.equal(taskOfObject("r1", "runs/r10/task-00007.json"), undefined);
        assert.equal(taskOfObject("r1", "runs/r1/notes.txt"), undefined);
    });

    it("gives the execution time to start, open at each task's rate, hold and upload", () => {
        const plan = planLoad({
            stack: "s",
            tasks: "4",
            connections: "100000",
            rate: "2000",
            hold: "300",
            "start-delay": "60",
        });
        // 25,000 per task at 500/s is 50 s, twice the hold for the endpoint probe's own hold, 600 s margin.
        assert.equal(executionTimeoutSec(plan), 60 + 50 + 600 + 600);
    });
});
