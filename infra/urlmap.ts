import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { Backend } from "./backends";
import { LoadBalancerSettings } from "./settings";

export const PATH_MATCHER = "websocket-routes";

/**
 * The HTTPS URL map: every WebSocket path to the WebSocket backend with its own route timeout,
 * other backends at their paths, the WebSocket backend as the default. Headers are added at the
 * path-matcher level: a pathRule has no headerAction field.
 */
export function createUrlMap(name: string, settings: LoadBalancerSettings, backends: Backend[], parent: pulumi.Resource): compute.URLMap {
    const websocketBackend = backends.find((b) => b.settings.websocket);
    if (!websocketBackend) {
        throw new Error("createUrlMap: no WebSocket backend (settings validation should have caught this)");
    }
    const routeAction =
        settings.websocketTimeoutSec > 0 ? { timeout: { seconds: String(settings.websocketTimeoutSec), nanos: 0 } } : undefined;
    const rules = [
        { paths: [...settings.websocketPaths], service: websocketBackend.service.id, routeAction },
        ...backends
            .filter((b) => b.settings.paths.length > 0)
            .map((b) => ({ paths: [...b.settings.paths], service: b.service.id })),
    ];
    const headerAction =
        settings.requestHeaders.length > 0
            ? {
                  requestHeadersToAdds: settings.requestHeaders.map((h) => ({
                      headerName: h.name,
                      headerValue: h.value,
                      replace: h.replace,
                  })),
              }
            : undefined;
    return new compute.URLMap(
        `${name}-https`,
        {
            description: "HTTPS routes: WebSocket paths with a 24 h route timeout",
            defaultService: websocketBackend.service.id,
            hostRules: [{ hosts: [...settings.domains], pathMatcher: PATH_MATCHER }],
            pathMatchers: [
                {
                    name: PATH_MATCHER,
                    defaultService: websocketBackend.service.id,
                    headerAction,
                    pathRules: rules,
                },
            ],
        },
        { parent },
    );
}
