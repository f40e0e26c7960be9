import { ResourceValidationArgs, ResourceValidation, ReportViolation } from "@pulumi/policy";
import { withoutStackTraces } from "./props";
import { shortType } from "./types";

/** Limits a resource rule to some types; the others get a not-applicable note, as typed rules do. */
export function forTypes(
    types: readonly string[],
    validate: (args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    const reason = `applies only to ${types.map(shortType).join(", ")}`;
    return (args, report) => {
        if (!types.includes(args.type)) {
            notApplicable(args, reason);
        }
        validate(args, report);
    };
}

/**
 * `args.notApplicable`, which throws the SDK's NotApplicableError, without the stack trace an
 * error records when it is made: the SDK keeps only its reason, and a 1,000-backend stack makes
 * some 10,000 of them (each resource policy for each resource of another type).
 */
function notApplicable(args: ResourceValidationArgs, reason: string): never {
    return withoutStackTraces(() => args.notApplicable(reason));
}
