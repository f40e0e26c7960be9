import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";
import { InstanceGroupBackend } from "./settings";

/** Where an instance group's VMs attach: the subnet to name in the template, if any. */
export interface BackendNetwork {
    readonly subnetwork?: pulumi.Input<string>;
}

export interface Egress {
    readonly routers: compute.Router[];
    readonly nats: compute.RouterNat[];
    readonly subnets: compute.Subnetwork[];
    /** Backend name to where its VMs attach. */
    readonly networks: ReadonlyMap<string, BackendNetwork>;
}

/**
 * How VMs without external IPs reach Artifact Registry: one Cloud Router and Cloud NAT per network
 * and region that `nat` backends use, or a subnet with Private Google Access per
 * `privateGoogleAccess` backend. `none` leaves egress to the network's owner (a shared VPC host
 * project runs its own NAT).
 */
export function createEgress(name: string, backends: readonly InstanceGroupBackend[], parent: pulumi.Resource): Egress {
    const routers: compute.Router[] = [];
    const nats: compute.RouterNat[] = [];
    const subnets: compute.Subnetwork[] = [];
    const networks = new Map<string, BackendNetwork>();

    const natGroups = new Map<string, InstanceGroupBackend[]>();
    for (const backend of backends) {
        if (backend.egress === "nat") {
            const key = `${backend.network}\n${backend.region}`;
            natGroups.set(key, [...(natGroups.get(key) ?? []), backend]);
        }
    }
    const perRegion = new Map<string, number>();
    for (const group of natGroups.values()) {
        const { network, region } = group[0];
        const index = perRegion.get(region) ?? 0;
        perRegion.set(region, index + 1);
        const stem = index === 0 ? `${name}-${region}` : `${name}-${region}-${index}`;
        const router = new compute.Router(
            `${stem}-router`,
            { description: `Cloud NAT for ${group.map((b) => b.name).join(", ")}`, network, region },
            { parent },
        );
        // A NAT that covers only the named subnets leaves the network's other subnets to whoever owns
        // them. The NAT's subnet list takes self links only, so a bare name NATs the whole network.
        const named = group.every((b) => b.subnetwork.includes("/subnetworks/"))
            ? [...new Set(group.map((b) => b.subnetwork))]
            : [];
        const nat = new compute.RouterNat(
            `${stem}-nat`,
            {
                router: router.name,
                region,
                natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat:
                    named.length > 0 ? "LIST_OF_SUBNETWORKS" : "ALL_SUBNETWORKS_ALL_IP_RANGES",
                subnetworks:
                    named.length > 0
                        ? named.map((subnet) => ({ name: subnet, sourceIpRangesToNats: ["ALL_IP_RANGES"] }))
                        : undefined,
                logConfig: { enable: true, filter: "ERRORS_ONLY" },
            },
            { parent },
        );
        routers.push(router);
        nats.push(nat);
    }

    for (const backend of backends) {
        if (backend.egress === "privateGoogleAccess") {
            const subnet = new compute.Subnetwork(
                `${name}-${backend.name}-subnet`,
                {
                    description: `${backend.name} instances: Private Google Access reaches Artifact Registry without external IPs`,
                    network: backend.network,
                    region: backend.region,
                    ipCidrRange: backend.subnetCidr,
                    privateIpGoogleAccess: true,
                },
                { parent },
            );
            subnets.push(subnet);
            networks.set(backend.name, { subnetwork: subnet.id });
        } else {
            networks.set(backend.name, { subnetwork: backend.subnetwork || undefined });
        }
    }
    return { routers, nats, subnets, networks };
}
