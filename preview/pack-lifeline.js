// Preloaded (node -r) into the policy pack's process. The parent holds the other end of pipe 3;
// when the parent goes, however it goes (exit, SIGTERM, SIGKILL, a crash), the kernel closes that
// end and this process ends too, so no pack outlives the command that started it. Plain
// JavaScript: it runs before anything could register TypeScript.
"use strict";
const net = require("net");
const lifeline = new net.Socket({ fd: 3, readable: true, writable: false });
const end = () => process.exit(0);
lifeline.on("data", () => undefined);
lifeline.on("end", end);
lifeline.on("close", end);
lifeline.on("error", end);
// The pack's own server keeps it alive; the lifeline only ends it.
lifeline.unref();
