import { buildFakeGcs } from "./fake-gcs";

/**
 * Mocha global setup of the load job's tier: builds fake-gcs-server from its Go module once
 * (cached under .tools). A failed build does not stop the run here: the suite skips loudly.
 */
export function mochaGlobalSetup(): void {
    const built = buildFakeGcs();
    if (!built.ok) {
        console.error(`\n  !!! scripts/fake-gcs-server.sh failed: ${built.why}\n`);
    }
}
