import { spawnSync } from "child_process";
import * as path from "path";
import { missingTools, ROOT } from "./harness";

/**
 * Mocha global setup of the engine tier: builds (or finds cached) the CLI, the language host and
 * the gcp stand-in with scripts/pulumi-cli.sh. A failed build does not stop the run here: each
 * suite then skips loudly, naming what is missing.
 */
export function mochaGlobalSetup(): void {
    const script = path.join(ROOT, "scripts", "pulumi-cli.sh");
    const result = spawnSync("bash", [script], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    if (result.status !== 0) {
        console.error(
            `\n  !!! scripts/pulumi-cli.sh exited ${result.status}; missing: ${missingTools().join(", ") || "nothing"}\n`,
        );
    }
}
