import { previewOffline, RunningPack, summarize, summaryLine } from "../preview";
import { errorText } from "../cli/kit";
import { GateResult } from "./pipeline";

/** Step 1: the offline preview; any mandatory violation or failure stops the deploy. */
export function offlineGate(
    projectDir: string,
    stack: string,
    packDir: string,
    pack?: RunningPack,
): () => Promise<GateResult> {
    return async () => {
        try {
            const result = await previewOffline({ projectDir, stack, packDir, pack });
            const summary = summarize(result.resources, result.diagnostics);
            const mandatory = result.diagnostics
                .filter((d) => d.level === "mandatory")
                .map((d) => `${d.policy}: ${d.message.split("\n").pop()}`);
            return { ok: summary.mandatory === 0, summary: [summaryLine(summary), ...mandatory].join("; ") };
        } catch (e) {
            return { ok: false, summary: errorText(e) };
        }
    };
}
