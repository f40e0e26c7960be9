import { ResourceValidationArgs, ResourceValidation, ReportViolation } from "@pulumi/policy";
import { shortType } from "./types";

/** Limits a resource rule to some types; the others get a not-applicable note, as typed rules do. */
export function forTypes(
    types: readonly string[],
    validate: (args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) {
            args.notApplicable(`applies only to ${types.map(shortType).join(", ")}`);
        }
        validate(args, report);
    };
}
