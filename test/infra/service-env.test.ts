import { strict as assert } from "assert";
import * as YAML from "yaml";
import { ProgramError, ProgramRun, RecordedResource } from "../../preview";
import { tokenProblem, vmEnvScript } from "../../infra/service-env";
import { ofType, runStack, TYPES } from "../helpers/stack";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const p = (r: RecordedResource) => r.inputs as Props;
const ACCOUNT = "gcp:serviceaccount/account:Account";
const SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember";

const api = {
    kind: "instanceGroup",
    websocket: true,
    paths: ["/api", "/api/*"],
    image: "us-docker.pkg.dev/example-chat-staging/chat/api:1.4.2",
    region: "us-central1",
    env: { WS_PING_INTERVAL_SEC: "25", WS_MAX_CONNECTIONS: "10000" },
    secretEnv: {
        DB_PASSWORD: { secret: "chat-db-password", version: "3" },
        JWT_SIGNING_KEY: { secret: "chat-jwt", version: "latest" },
    },
};
const auth = {
    kind: "cloudRun",
    paths: ["/auth", "/auth/*"],
    image: "us-docker.pkg.dev/example-chat-staging/chat/auth:1.4.2",
    region: "us-central1",
    env: { LOG_LEVEL: "info" },
    secretEnv: { OAUTH_CLIENT_SECRET: { secret: "projects/shared-secrets/secrets/oauth-client" } },
};

describe("infrastructure: backends with env and secretEnv (mock runtime)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runStack("staging", [`backends=${JSON.stringify({ api, auth })}`]);
    });

    it("Cloud Run: native env and Secret Manager references, run as an account allowed exactly those secrets", () => {
        const [service] = ofType(run, TYPES.cloudRun);
        const container = p(service).template.containers[0];
        assert.deepEqual(container.envs, [
            { name: "LOG_LEVEL", value: "info" },
            {
                name: "OAUTH_CLIENT_SECRET",
                valueSource: {
                    secretKeyRef: { secret: "projects/shared-secrets/secrets/oauth-client", version: "latest" },
                },
            },
        ]);
        const account = ofType(run, ACCOUNT).find((a) => p(a).accountId === "chat-auth-run-sa")!;
        assert.ok(account, "a service account for the Cloud Run backend");
        // The email is computed at preview: the account shows as a dependency of the property.
        assert.ok(service.propertyDependencies.template.includes(account.urn), "the service runs as that account");
        const grants = grantsTo(account);
        assert.deepEqual(
            grants.map((g) => [p(g).secretId, p(g).role]),
            [["projects/shared-secrets/secrets/oauth-client", "roles/secretmanager.secretAccessor"]],
        );
        // Cloud Run checks the account's access to each secret when it creates the revision: the
        // service waits for the grants, not only for the account.
        for (const grant of grants) {
            assert.ok(
                service.dependencies.includes(grant.urn),
                `the service waits for the grant on ${p(grant).secretId}`,
            );
        }
    });

    const grantsTo = (account: RecordedResource) =>
        ofType(run, SECRET_MEMBER).filter((m) => (m.propertyDependencies.member ?? []).includes(account.urn));

    it("instance groups: the systemd unit passes the env file; secrets are read at start by the VM's account, never in metadata", () => {
        const [template] = ofType(run, TYPES.template);
        const userData = String(p(template).metadata["user-data"]);
        const cloudInit = YAML.parse(userData.replace(/^#cloud-config\n/, "")) as {
            write_files: Array<{ path: string; content: string }>;
        };
        const unit = cloudInit.write_files.find((f) => f.path === "/etc/systemd/system/websocket-app.service")!.content;
        assert.match(unit, /ExecStartPre=\/bin\/bash \/etc\/websocket-app\/prepare-env\.sh/);
        assert.match(
            unit,
            /ExecStart=\/usr\/bin\/docker run --rm --name websocket-app --env-file \/run\/websocket-app\/env -p 8080:8080 /,
        );
        const script = cloudInit.write_files.find((f) => f.path === "/etc/websocket-app/prepare-env.sh")!.content;
        assert.match(script, /printf '%s=%s\\n' WS_PING_INTERVAL_SEC '25' >> \/run\/websocket-app\/env/);
        assert.match(
            script,
            /secretmanager\.googleapis\.com\/v1\/projects\/\$project\/secrets\/chat-db-password\/versions\/3:access/,
        );
        assert.match(script, /secrets\/chat-jwt\/versions\/latest:access/);
        // The VMs' dedicated account (one per instance-group backend) is the one allowed the secrets.
        const account = ofType(run, ACCOUNT).find((a) => p(a).accountId === "lb-api-vm")!;
        assert.ok(account, "the api backend's dedicated VM account");
        assert.ok(
            template.propertyDependencies.serviceAccount.includes(account.urn),
            "the VMs run as the account that reads the secrets",
        );
        const grants = grantsTo(account);
        assert.deepEqual(grants.map((g) => p(g).secretId).sort(), ["chat-db-password", "chat-jwt"]);
        assert.doesNotMatch(JSON.stringify(p(template).metadata), /secret-value|BEGIN/);
    });

    it("a backend without secrets is granted none: Cloud Run keeps its default identity, the VMs only their dedicated account", async () => {
        const plain = await runStack("staging", [
            `backends=${JSON.stringify({ api: { ...api, secretEnv: undefined }, auth: { ...auth, secretEnv: undefined } })}`,
        ]);
        // Besides the synthetic monitor's own accounts (it reads its token secret; its build), only the VMs'.
        const accounts = ofType(plain, ACCOUNT).filter(
            (a) => !["chat-synthetic-monitor", "chat-synthetic-build"].includes(String(p(a).accountId)),
        );
        assert.deepEqual(
            accounts.map((a) => p(a).accountId),
            ["lb-api-vm"],
        );
        assert.deepEqual(
            ofType(plain, SECRET_MEMBER).map((m) => p(m).secretId),
            ["chat-monitor-token"],
        );
        const [account] = accounts;
        assert.ok(ofType(plain, TYPES.template)[0].propertyDependencies.serviceAccount.includes(account.urn));
    });

    it("refuses token-looking plain values with a hint to use secretEnv, without echoing them, and names every problem at once", async () => {
        const bad = {
            api: {
                ...api,
                env: { API_TOKEN: "abc", STRIPE: "sk_live_0123456789abcdef", "1BAD": "x", PORTS: 8080 },
                secretEnv: { DB: { secret: "bad secret!" }, V: { secret: "ok", version: "v2" } },
            },
            auth: { ...auth, env: { LOG_LEVEL: "info" }, secretEnv: { LOG_LEVEL: { secret: "x" } } },
        };
        await assert.rejects(runStack("staging", [`backends=${JSON.stringify(bad)}`]), (e: unknown) => {
            assert.ok(e instanceof ProgramError, String(e));
            const text = e.message;
            assert.match(
                text,
                /backends\.api\.env\.API_TOKEN is "\(hidden\)"; its name says it is a secret; put it in Secret Manager and use secretEnv instead: API_TOKEN: \{secret: SECRET_ID, version: latest\}/,
            );
            assert.match(text, /backends\.api\.env\.STRIPE is "\(hidden\)"; its value looks like a token or key/);
            assert.doesNotMatch(text, /sk_live_/);
            assert.match(text, /backends\.api\.env is "1BAD"; allowed: variable names/);
            assert.match(text, /backends\.api\.env\.PORTS is 8080; allowed: a string/);
            assert.match(
                text,
                /backends\.api\.secretEnv\.DB is \{"secret":"bad secret!"\}; allowed: \{secret: a Secret Manager secret id/,
            );
            assert.match(text, /backends\.api\.secretEnv\.V\.version is "v2"; allowed: latest or a version number/);
            assert.match(text, /backends\.auth\.secretEnv\.LOG_LEVEL .*LOG_LEVEL is also in env/);
            return true;
        });
    });

    it("tells settings from tokens", () => {
        assert.equal(tokenProblem("WS_PING_INTERVAL_SEC", "25"), undefined);
        assert.equal(tokenProblem("PUBLIC_URL", "https://chat.example.com/ws"), undefined);
        assert.match(tokenProblem("SESSION_KEY", "Zx8Kq2LmN4pR7sT1vW3yA5bC6dE9fG0h")!, /looks like a token/);
        assert.match(tokenProblem("GITHUB", "ghp_abcdefghijklmnopqrstuvwxyz0123")!, /looks like a token/);
        assert.match(tokenProblem("DB_PASSWORD", "x")!, /name says it is a secret/);
    });

    it("writes plain values shell-quoted, so a quote in a value cannot run a command", () => {
        const script = vmEnvScript({ env: { GREETING: "it's $(reboot)" }, secretEnv: {} }, "/run/x/env");
        assert.ok(script.includes(`printf '%s=%s\\n' GREETING 'it'\\''s $(reboot)' >> /run/x/env`), script.join("\n"));
    });
});
