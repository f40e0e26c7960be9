// Preloaded (node -r) into the policy pack's process by the offline preview. The preview's own
// event loop may be busy running the program when the pack prints its port, so the pack stamps
// that moment itself: a `pack-ready-at <epoch ms>` line on stdout just before the port line.
"use strict";
const write = process.stdout.write;
let stamped = false;
process.stdout.write = function (chunk, ...rest) {
    if (!stamped && /^\d+\s*$/.test(String(chunk))) {
        stamped = true;
        write.call(this, `pack-ready-at ${Date.now()}\n`);
    }
    return write.call(this, chunk, ...rest);
};
