import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathsRegex } from "../../infra/security";
import type { CloudArmorSettings } from "../../infra/settings";
import { Closable, freePort, nginxConfHead, startNginx } from "./servers";

// A local stand-in for the Cloud Armor edge: nginx with the policy the stack declares, written from
// the same settings object infra/security.ts writes the policy's rules from. nginx's `if ... return`
// runs in its rewrite phase, before limit_req's preaccess phase, so a foreign Origin is refused
// without counting against the limit, as the policy's Origin rule (priority 1000) ends evaluation
// before the rate limit rule (2000) counts the request.

/** nginx takes a rate in whole requests per second or per minute. */
function nginxRate(count: number, intervalSec: number): string {
    return intervalSec % 60 === 0 || count * 60 < intervalSec
        ? `${Math.max(1, Math.ceil((count * 60) / intervalSec))}r/m`
        : `${Math.ceil(count / intervalSec)}r/s`;
}

/** The http block's directives for the policy; none for a front without limits. */
function policyConf(armor: CloudArmorSettings | undefined): { http: string; location: string } {
    if (!armor) {
        return { http: "", location: "" };
    }
    const limit = armor.handshakeRateLimit;
    const allowed = armor.allowedOrigins.map((o) => `        ${JSON.stringify(o)} 0;`).join("\n");
    return {
        http: `    map $http_origin $foreign_origin {
        default 1;
        ${armor.allowMissingOrigin ? '"" 0;' : ""}
${allowed}
    }
    limit_req_zone $binary_remote_addr zone=handshakes:1m rate=${nginxRate(limit.count, limit.intervalSec)};
    limit_req_status ${limit.exceedStatus};
`,
        location: `            if ($foreign_origin) { return 403; }
            limit_req zone=handshakes burst=${limit.count - 1} nodelay;
`,
    };
}

/** The whole nginx.conf: the WebSocket paths under the policy, everything proxied to `upstreamPort`. */
function nginxFrontConf(
    dir: string,
    port: number,
    upstreamPort: number,
    websocketPaths: readonly string[],
    armor: CloudArmorSettings | undefined,
): string {
    const policy = policyConf(armor);
    return `${nginxConfHead(dir)}${policy.http}
    server {
        listen 127.0.0.1:${port};
        location ~ "${pathsRegex(websocketPaths)}" {
${policy.location}            proxy_pass http://127.0.0.1:${upstreamPort};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }
        location / {
            proxy_pass http://127.0.0.1:${upstreamPort};
        }
    }
}
`;
}

/** nginx in front of `upstreamPort`, under the policy (or with no limits when `armor` is undefined). */
export async function nginxFront(
    upstreamPort: number,
    websocketPaths: readonly string[],
    armor: CloudArmorSettings | undefined,
): Promise<Closable> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-nginx-front-"));
    const port = await freePort();
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(conf, nginxFrontConf(dir, port, upstreamPort, websocketPaths, armor));
    const running = await startNginx(dir, port, conf);
    return {
        ...running,
        close: async () => {
            await running.close();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
