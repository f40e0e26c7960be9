import * as pulumi from "@pulumi/pulumi";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import { isRecord, Validator } from "./config-checks";

// A backend's environment: `env` (plain values) and `secretEnv` (Secret Manager references),
// "backend services deployed with WebSocket environment variables" as the staging incident report put it, without
// a secret ever in clear text in config, state or instance metadata.

interface SecretRef {
    /** Secret Manager secret: its id in this project, or projects/P/secrets/S. */
    readonly secret: string;
    /** "latest" or a version number. */
    readonly version: string;
}

export interface ServiceEnv {
    readonly env: Readonly<Record<string, string>>;
    readonly secretEnv: Readonly<Record<string, SecretRef>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ID = /^(projects\/[a-z0-9-]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;
/** Names that say "secret" (API_TOKEN, DB_PASSWORD, STRIPE_SECRET_KEY...). */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i;
/** Values that look like credentials whatever their name: well-known prefixes, PEM blocks, long random strings. */
const SECRET_VALUE = [
    /^-----BEGIN /,
    /^(sk|pk|rk)_(live|test)_/,
    /^gh[pousr]_[A-Za-z0-9]{20,}/,
    /^xox[abprs]-/,
    /^AKIA[0-9A-Z]{16}$/,
    /^AIza[0-9A-Za-z_-]{35}$/,
    /^eyJ[A-Za-z0-9_-]+\.eyJ/,
];

/** A long string mixing letters and digits with no spaces: a key more likely than a setting. */
function looksRandom(value: string): boolean {
    return (
        value.length >= 32 &&
        /^[A-Za-z0-9+/=_.-]+$/.test(value) &&
        /[0-9]/.test(value) &&
        /[a-z]/.test(value) &&
        /[A-Z]/.test(value)
    );
}

/** Why a plain value must not be plain, or undefined when it may be. */
export function tokenProblem(name: string, value: string): string | undefined {
    if (value === "") {
        return undefined;
    }
    if (SECRET_NAME.test(name)) {
        return `its name says it is a secret`;
    }
    if (SECRET_VALUE.some((r) => r.test(value)) || looksRandom(value)) {
        return `its value looks like a token or key`;
    }
    return undefined;
}

/** Parses a backend's `env` and `secretEnv`; every problem goes to the validator. */
export function parseServiceEnv(v: Validator, at: string, spec: Record<string, unknown>): ServiceEnv {
    const env: Record<string, string> = {};
    const secretEnv: Record<string, SecretRef> = {};
    if (spec.env !== undefined) {
        if (!isRecord(spec.env)) {
            v.fail(`${at}.env`, spec.env, "allowed: a map of variable name to a plain string value");
        } else {
            for (const [name, value] of Object.entries(spec.env)) {
                const key = `${at}.env.${name}`;
                if (!ENV_NAME.test(name)) {
                    v.fail(
                        `${at}.env`,
                        name,
                        "allowed: variable names of letters, digits and _, not starting with a digit",
                    );
                } else if (typeof value !== "string") {
                    v.fail(key, value, "allowed: a string (quote numbers and booleans)");
                } else {
                    const problem = tokenProblem(name, value);
                    if (problem) {
                        // The value itself is not repeated: it may be the very secret.
                        v.fail(
                            key,
                            "(hidden)",
                            `${problem}; put it in Secret Manager and use secretEnv instead: ${name}: {secret: SECRET_ID, version: latest}`,
                        );
                    } else {
                        env[name] = value;
                    }
                }
            }
        }
    }
    if (spec.secretEnv !== undefined) {
        if (!isRecord(spec.secretEnv)) {
            v.fail(`${at}.secretEnv`, spec.secretEnv, "allowed: a map of variable name to {secret, version}");
        } else {
            for (const [name, ref] of Object.entries(spec.secretEnv)) {
                const key = `${at}.secretEnv.${name}`;
                if (!ENV_NAME.test(name)) {
                    v.fail(
                        `${at}.secretEnv`,
                        name,
                        "allowed: variable names of letters, digits and _, not starting with a digit",
                    );
                    continue;
                }
                if (name in env) {
                    v.fail(key, ref, `${name} is also in env; allowed: each variable in env or secretEnv, not both`);
                    continue;
                }
                if (isRecord(ref)) {
                    v.knownKeys(key, ref, ["secret", "version"]);
                }
                const secret = isRecord(ref) ? ref.secret : undefined;
                const version = isRecord(ref) ? (ref.version ?? "latest") : undefined;
                if (typeof secret !== "string" || !SECRET_ID.test(secret)) {
                    v.fail(
                        key,
                        ref,
                        "allowed: {secret: a Secret Manager secret id or projects/P/secrets/S, version: latest or a number}",
                    );
                } else if (typeof version !== "string" || !/^(latest|[1-9][0-9]*)$/.test(version)) {
                    v.fail(`${key}.version`, version, "allowed: latest or a version number, as a string");
                } else {
                    secretEnv[name] = { secret, version };
                }
            }
        }
    }
    return { env, secretEnv };
}

/** The distinct secrets a backend reads. */
function secretsOf(settings: ServiceEnv): string[] {
    return [...new Set(Object.values(settings.secretEnv).map((r) => r.secret))];
}

/**
 * Grants `email` `roles/secretmanager.secretAccessor` on exactly the secrets `settings` reads, one
 * SecretIamMember per secret (node_modules/@pulumi/gcp/secretmanager/secretIamMember.d.ts).
 * Exported on its own so a backend that already has a dedicated account can use it.
 */
export function grantSecretAccess(
    name: string,
    settings: ServiceEnv,
    email: pulumi.Input<string>,
    parent: pulumi.Resource,
): secretmanager.SecretIamMember[] {
    return secretsOf(settings).map(
        (secret, i) =>
            new secretmanager.SecretIamMember(
                `${name}-reads-secret-${i}`,
                {
                    secretId: secret,
                    role: "roles/secretmanager.secretAccessor",
                    member: pulumi.interpolate`serviceAccount:${email}`,
                },
                { parent },
            ),
    );
}

export interface SecretReader {
    readonly account: serviceaccount.Account;
    /** Its accessor grants: what a Cloud Run service must wait for (Cloud Run checks them when it creates a revision). */
    readonly grants: secretmanager.SecretIamMember[];
}

/**
 * A service account for a backend that reads secrets, allowed to read exactly those and nothing
 * else. Undefined when it reads none (the backend keeps its default identity).
 */
export function secretReader(name: string, settings: ServiceEnv, parent: pulumi.Resource): SecretReader | undefined {
    const secrets = secretsOf(settings);
    if (secrets.length === 0) {
        return undefined;
    }
    const account = new serviceaccount.Account(
        `${name}-sa`,
        {
            accountId: `${name}-sa`.slice(0, 30),
            displayName: `WebSocket LB backend ${name}: reads its ${secrets.length} secret(s)`,
        },
        { parent },
    );
    return { account, grants: grantSecretAccess(name, settings, account.email, parent) };
}

/** Cloud Run's native env: plain values, and secret references resolved by Cloud Run at start. */
export function cloudRunEnvs(
    settings: ServiceEnv,
): Array<{ name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } }> {
    return [
        ...Object.entries(settings.env).map(([name, value]) => ({ name, value })),
        ...Object.entries(settings.secretEnv).map(([name, ref]) => ({
            name,
            valueSource: { secretKeyRef: { secret: ref.secret, version: ref.version } },
        })),
    ];
}

/** Shell-quotes for a systemd/sh line: single quotes, each ' closed and escaped. */
function quote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The lines of a script that runs before the container on a VM: it writes the plain env to an
 * env file, and reads each secret from Secret Manager with the VM's service account token (from
 * the metadata server) into a file on tmpfs, readable by root only. Instance metadata carries
 * only secret names, never values. Uses curl, sed and base64, which Container-Optimized OS ships
 * (inferred); the access URL is Secret Manager's REST `versions/*:access`
 * (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access).
 */
export function vmEnvScript(settings: ServiceEnv, envFile: string): string[] {
    // A value with a newline (a PEM key) cannot go through an env file: mount it as a file instead.
    const lines = [
        "#!/bin/bash",
        "set -euo pipefail",
        "umask 077",
        `mkdir -p "$(dirname ${envFile})"`,
        `: > ${envFile}`,
    ];
    for (const [name, value] of Object.entries(settings.env)) {
        lines.push(`printf '%s=%s\\n' ${name} ${quote(value)} >> ${envFile}`);
    }
    if (Object.keys(settings.secretEnv).length > 0) {
        lines.push(
            `token=$(curl -sf -H 'Metadata-Flavor: Google' http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token | sed -E 's/.*"access_token" *: *"([^"]+)".*/\\1/')`,
            `project=$(curl -sf -H 'Metadata-Flavor: Google' http://metadata.google.internal/computeMetadata/v1/project/project-id)`,
        );
        for (const [name, ref] of Object.entries(settings.secretEnv)) {
            const path = ref.secret.startsWith("projects/") ? ref.secret : `projects/$project/secrets/${ref.secret}`;
            lines.push(
                `value=$(curl -sf -H "Authorization: Bearer $token" "https://secretmanager.googleapis.com/v1/${path}/versions/${ref.version}:access" | sed -E 's/.*"data" *: *"([^"]+)".*/\\1/' | base64 -d)`,
                `printf '%s=%s\\n' ${name} "$value" >> ${envFile}`,
            );
        }
    }
    return lines;
}
