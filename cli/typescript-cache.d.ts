/** The JavaScript of one TypeScript file (no type check), from the on-disk cache or compiled now; `map` is its source map. */
export function transpile(source: string, fileName: string): { code: string; map: string };
/** The modules a TypeScript file imports or re-exports, as written, as TypeScript's preProcessFile lists them. */
export function importsOf(source: string, fileName: string): string[];
/** Loads `.ts` files through the cache, maps their stack traces to TypeScript, turns on Node's compile cache. */
export function register(): void;
/** tsconfig.json's options that change emitted JavaScript. */
export const EMIT_OPTIONS: Readonly<{ target: string; module: string; esModuleInterop: boolean; strict: boolean }>;
