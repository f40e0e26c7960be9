/** Standard streams and Ctrl-C for a command's main: Ctrl-C aborts the signal, so a monitor can stop and summarize. */
export function processIo(): { out: (text: string) => void; err: (text: string) => void; env: NodeJS.ProcessEnv; signal: AbortSignal } {
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    return {
        out: (text) => process.stdout.write(text + "\n"),
        err: (text) => process.stderr.write(text + "\n"),
        env: process.env,
        signal: controller.signal,
    };
}
