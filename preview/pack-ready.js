// Preloaded (node -r) into the policy pack's process by the offline preview. The preview's own
// event loop may be busy running the program when the pack prints its port, so the pack stamps
// that moment itself: a `pack-ready-at <epoch ms>` line on stdout just before the port line.
// Then, once the port is out, it writes Node's compile cache (NODE_COMPILE_CACHE, which the
// project's loader sets): Node writes it only at a clean exit, and a pack is ended by a signal,
// so without this the next pack would compile everything again.
"use strict";
const { flushCompileCache } = require("module");
const write = process.stdout.write;
let stamped = false;
process.stdout.write = function (chunk, ...rest) {
    if (!stamped && /^\d+\s*$/.test(String(chunk))) {
        stamped = true;
        write.call(this, `pack-ready-at ${Date.now()}\n`);
        const written = write.call(this, chunk, ...rest);
        if (typeof flushCompileCache === "function") {
            setImmediate(flushCompileCache);
        }
        return written;
    }
    return write.call(this, chunk, ...rest);
};
