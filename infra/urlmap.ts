import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { Backend } from "./backends";
import { LoadBalancerSettings } from "./settings";

const PATH_MATCHER = "websocket-routes";

/**
 * A backend service's reference, spelled as its id (`projects/P/global/backendServices/NAME`, the
 * provider's id format) but built from its project and name. The id of a service not yet created is
 * unknown at preview, so a map of ids leaves the policy pack unable to tell which backend a
 * WebSocket path reaches on a new stack; the name (the provider's auto-name, chosen in Check) and
 * the project (the provider's default, filled at plan time: inferred from the provider's plan
 * output) are known then. Once the service exists the string equals its id, so an existing stack
 * sees no change.
 */
function reference(service: compute.BackendService): pulumi.Output<string> {
    return pulumi.interpolate`projects/${service.project}/global/backendServices/${service.name}`;
}

/**
 * The HTTPS URL map: every WebSocket path to the WebSocket backend with its own route timeout,
 * other backends at their paths and the WebSocket backend as the default, both with the short
 * HTTP route timeout. Headers are added at the
 * path-matcher level: a pathRule has no headerAction field.
 */
export function createUrlMap(
    name: string,
    settings: LoadBalancerSettings,
    backends: Backend[],
    parent: pulumi.Resource,
): compute.URLMap {
    const websocketBackend = backends.find((b) => b.settings.websocket);
    if (!websocketBackend) {
        throw new Error("createUrlMap: no WebSocket backend (settings validation should have caught this)");
    }
    const timeout = (seconds: number) =>
        seconds > 0 ? { timeout: { seconds: String(seconds), nanos: 0 } } : undefined;
    // The WebSocket backend's timeoutSec is a day; every route that is not a WebSocket path gets
    // its own short timeout, or a hung plain request would hold its connection that long.
    const websocketRoute = timeout(settings.websocketTimeoutSec);
    const httpRoute = timeout(settings.httpTimeoutSec);
    const rules = [
        {
            paths: [...settings.websocketPaths],
            service: reference(websocketBackend.service),
            routeAction: websocketRoute,
        },
        ...backends
            .filter((b) => b.settings.paths.length > 0)
            .map((b) => ({ paths: [...b.settings.paths], service: reference(b.service), routeAction: httpRoute })),
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
            description: "HTTPS routes: WebSocket paths with a 24 h route timeout, the others with a short one",
            defaultService: reference(websocketBackend.service),
            defaultRouteAction: httpRoute,
            hostRules: [{ hosts: [...settings.domains], pathMatcher: PATH_MATCHER }],
            pathMatchers: [
                {
                    name: PATH_MATCHER,
                    defaultService: reference(websocketBackend.service),
                    defaultRouteAction: httpRoute,
                    headerAction,
                    pathRules: rules,
                },
            ],
        },
        { parent },
    );
}
