// The Policy SDK's unknown-checking proxy, which wraps every props object a rule sees. Its
// typings are stripped from the package, so this file states the small part the pack uses.

interface ProxyModule {
    /** Thrown when a rule reads a value that is unknown during preview. */
    UnknownValueError: new (...args: never[]) => Error;
    /** Reading this key of a proxied object returns the raw object underneath. */
    getSpecialProxyTarget: string;
    unknownCheckingProxy<T extends object>(value: T): T;
    unknownStringValue: string;
    unknownNumberValue: string;
    unknownBooleanValue: string;
    unknownArrayValue: string;
    unknownObjectValue: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module has no typings to import
export const sdkProxy = require("@pulumi/policy/proxy") as ProxyModule;

// The SDK has no public way to tell an unknown from a value, so there is no public path to fall
// back to: a pack that cannot tell them apart would misjudge, so it refuses to load instead.
for (const [name, type] of [
    ["UnknownValueError", "function"],
    ["unknownCheckingProxy", "function"],
    ["getSpecialProxyTarget", "string"],
] as const) {
    if (typeof sdkProxy[name] !== type) {
        throw new Error(
            `@pulumi/policy/proxy no longer exports ${name} (a ${type}); policies/lib/sdk-proxy.ts needs updating`,
        );
    }
}
