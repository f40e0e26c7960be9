import { errorText } from "../cli/kit";
import type { RecordedResource } from "./program";

/**
 * The program's error, kept apart from failures of the harness itself. Its own module, without
 * the SDK, so the command can tell it apart before the program (and the SDK) is loaded.
 */
export class ProgramError extends Error {
    constructor(
        readonly cause: unknown,
        /** What the program had registered before it failed. */
        readonly resources: readonly RecordedResource[],
        /** Where in the program's own files it failed ("infra/backends.ts:59:12"), when its stack says. */
        readonly location?: string,
    ) {
        super(location ? `${errorText(cause)} (at ${location})` : errorText(cause));
        this.name = "ProgramError";
    }
}
