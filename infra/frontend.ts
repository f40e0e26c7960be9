import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { LoadBalancerSettings } from "./settings";

export interface Frontend {
    readonly address: compute.GlobalAddress;
    readonly certificate: compute.ManagedSslCertificate;
    readonly sslPolicy: compute.SSLPolicy;
    readonly httpsProxy: compute.TargetHttpsProxy;
    readonly httpsRule: compute.GlobalForwardingRule;
    readonly redirectMap: compute.URLMap;
    readonly httpProxy: compute.TargetHttpProxy;
    readonly httpRule: compute.GlobalForwardingRule;
}

/**
 * What clients connect to: one global IP, TLS with a managed certificate and a TLS 1.2+ policy on
 * port 443, and port 80 answering only with a redirect to HTTPS.
 */
export function createFrontend(
    name: string,
    settings: LoadBalancerSettings,
    urlMap: compute.URLMap,
    parent: pulumi.Resource,
): Frontend {
    const scheme = settings.loadBalancingScheme;
    const address = new compute.GlobalAddress(`${name}-ip`, { addressType: "EXTERNAL", ipVersion: "IPV4" }, { parent });
    const certificate = new compute.ManagedSslCertificate(
        `${name}-cert`,
        { type: "MANAGED", managed: { domains: [...settings.domains] } },
        { parent },
    );
    const sslPolicy = new compute.SSLPolicy(`${name}-tls`, { minTlsVersion: "TLS_1_2", profile: "MODERN" }, { parent });
    const httpsProxy = new compute.TargetHttpsProxy(
        `${name}-https-proxy`,
        { urlMap: urlMap.id, sslCertificates: [certificate.id], sslPolicy: sslPolicy.id },
        { parent },
    );
    const httpsRule = new compute.GlobalForwardingRule(
        `${name}-https-rule`,
        {
            target: httpsProxy.id,
            ipAddress: address.address,
            portRange: "443",
            ipProtocol: "TCP",
            loadBalancingScheme: scheme,
        },
        { parent },
    );

    const redirectMap = new compute.URLMap(
        `${name}-http-redirect`,
        {
            description: "Port 80: redirect everything to HTTPS",
            defaultUrlRedirect: {
                httpsRedirect: true,
                redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
                stripQuery: false,
            },
        },
        { parent },
    );
    const httpProxy = new compute.TargetHttpProxy(`${name}-http-proxy`, { urlMap: redirectMap.id }, { parent });
    const httpRule = new compute.GlobalForwardingRule(
        `${name}-http-rule`,
        {
            target: httpProxy.id,
            ipAddress: address.address,
            portRange: "80",
            ipProtocol: "TCP",
            loadBalancingScheme: scheme,
        },
        { parent },
    );
    return { address, certificate, sslPolicy, httpsProxy, httpsRule, redirectMap, httpProxy, httpRule };
}
