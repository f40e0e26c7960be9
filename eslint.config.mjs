// One linter for the whole tree: typescript-eslint's type-checked recommended rules, plus bounds
// that keep functions small enough to change safely. Formatting is Prettier's job, not ESLint's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "node_modules/",
            "policies/bin/",
            ".tools/",
            ".tmp/",
            "reports/",
            "bench/results/",
            ".stryker-tmp/",
            "**/*.d.ts",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
            complexity: ["error", 25],
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests describe whole scenarios in one function; the bound is for source. They also read
        // JSON that real processes printed (reports, previews, state exports), whose shape the
        // assertions themselves check, so the no-unsafe family would only ask for casts there.
        files: ["test/**/*.ts", "bench/**/*.ts"],
        rules: {
            "max-lines-per-function": "off",
            complexity: "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-unsafe-call": "off",
        },
    },
    {
        files: ["**/*.js", "**/*.mjs"],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: {
            // disableTypeChecked's own parserOptions (no project service) kept: these are not in tsconfig.
            ...tseslint.configs.disableTypeChecked.languageOptions,
            sourceType: "commonjs",
            globals: {
                require: "readonly",
                module: "writable",
                process: "readonly",
                __dirname: "readonly",
                console: "readonly",
                Buffer: "readonly",
                setTimeout: "readonly",
                clearTimeout: "readonly",
                setImmediate: "readonly",
                exports: "writable",
            },
        },
        rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
    },
);
