// Preloaded (-r) into a benchmarked process: at exit it writes the kernel's own accounting of the
// process (peak resident memory, CPU time) to the file named by PROCESS_USAGE_FILE, so both sides
// of a comparison are measured the same way whatever they are.
import * as fs from "fs";

const file = process.env.PROCESS_USAGE_FILE;
if (file) {
    process.on("exit", () => {
        const usage = process.resourceUsage();
        fs.writeFileSync(
            file,
            JSON.stringify({
                maxRssBytes: usage.maxRSS * 1024,
                cpuSec: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
            }),
        );
    });
}
