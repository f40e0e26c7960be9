import { isRecord, Validator } from "./config-checks";
import { BackendSettings, LOAD_TEST_CPUS, LoadTestSettings } from "./settings";

// `loadTest`: false (the default), true, or {enabled, image, region, cpu, memoryMiB,
// shardRetentionDays}. Turned on, the stack creates the load job npm run load runs
// (infra/load-test.ts); the image is the one thing it cannot choose by itself.

const KEYS = ["enabled", "image", "region", "cpu", "memoryMiB", "shardRetentionDays"];
const OFF: LoadTestSettings = {
    enabled: false,
    image: "",
    region: "us-central1",
    cpu: "2",
    memoryMiB: 2048,
    shardRetentionDays: 7,
};
/**
 * The memory range, in MiB, a Cloud Run job's container takes with each CPU count
 * (https://cloud.google.com/run/docs/configuring/jobs/memory-limits, its table of CPUs and the memory
 * each requires); the CPU counts are those of types/input.d.ts, cloudrunv2.JobTemplateTemplateContainerResources.
 */
const MEMORY_MIB: Readonly<Record<LoadTestSettings["cpu"], { min: number; max: number }>> = {
    "1": { min: 512, max: 4096 },
    "2": { min: 512, max: 8192 },
    "4": { min: 2048, max: 16_384 },
    "6": { min: 4096, max: 24_576 },
    "8": { min: 4096, max: 32_768 },
};

export function parseLoadTest(
    v: Validator,
    key: string,
    value: unknown,
    backends: readonly BackendSettings[],
): LoadTestSettings {
    const spec = value === undefined || typeof value === "boolean" ? { enabled: value ?? false } : value;
    if (!isRecord(spec)) {
        v.fail(key, value, `allowed: true, false, or {${KEYS.join(", ")}}`);
        return OFF;
    }
    v.knownKeys(key, spec, KEYS);
    const enabled = spec.enabled === undefined ? true : v.flag(`${key}.enabled`, spec.enabled);
    if (!enabled) {
        return OFF;
    }
    const websocketRegion = backends.find((b) => b.websocket && b.kind !== "groups") as { region?: string } | undefined;
    const cpu = v.oneOf(`${key}.cpu`, spec.cpu ?? OFF.cpu, LOAD_TEST_CPUS);
    const memory = MEMORY_MIB[cpu];
    return {
        enabled: true,
        image: v.text(
            `${key}.image`,
            spec.image,
            "the image built from validator/Dockerfile, such as us-docker.pkg.dev/PROJECT/REPO/ws-validate:1 (required when loadTest is on)",
            /^[a-z0-9][a-z0-9.-]*(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})?$/,
        ),
        region: v.text(
            `${key}.region`,
            spec.region ?? websocketRegion?.region ?? OFF.region,
            "a Cloud Run region such as us-central1",
            /^[a-z]+-[a-z]+[0-9]+$/,
        ),
        cpu,
        memoryMiB: v.integer(
            `${key}.memoryMiB`,
            spec.memoryMiB ?? Math.max(OFF.memoryMiB, memory.min),
            memory.min,
            memory.max,
            ` (with ${cpu} CPU${cpu === "1" ? "" : "s"}, Cloud Run jobs take ${memory.min} to ${memory.max} MiB)`,
        ),
        shardRetentionDays: v.integer(
            `${key}.shardRetentionDays`,
            spec.shardRetentionDays ?? OFF.shardRetentionDays,
            1,
            365,
        ),
    };
}
