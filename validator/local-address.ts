// --local-address: the source addresses a load's connections take in turn. One source address has
// about 28,000 ephemeral ports towards one target (Linux's default ip_local_port_range,
// 32768-60999), so a load past that needs more of them, as k6's --local-ips gives.
import * as net from "net";
import * as os from "os";
import { FlagError } from "../cli/kit";

/** More addresses than connections would ever use; a /8 by mistake is refused, not expanded. */
export const MAX_LOCAL_ADDRESSES = 1024;

const ipv4ToNumber = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const numberToIpv4 = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

function bad(item: string, why: string): FlagError {
    return new FlagError(
        `--local-address ${JSON.stringify(item)}: ${why}; expected addresses (127.0.0.2), IPv4 ranges (127.0.0.2-127.0.0.9) or IPv4 CIDR blocks (127.0.0.0/28), comma-separated, up to ${MAX_LOCAL_ADDRESSES} in all`,
    );
}

/** The addresses one item of the list names, in order. */
function expand(item: string): string[] {
    const range = /^([0-9.]+)-([0-9.]+)$/.exec(item);
    const cidr = /^([0-9.]+)\/(\d{1,2})$/.exec(item);
    if (range || cidr) {
        const first = (range ?? cidr)![1];
        if (net.isIPv4(first) === false || (range && !net.isIPv4(range[2]))) {
            throw bad(item, "not IPv4 addresses");
        }
        let from = ipv4ToNumber(first);
        let to = range ? ipv4ToNumber(range[2]) : 0;
        if (cidr) {
            const bits = Number(cidr[2]);
            if (bits > 32) {
                throw bad(item, "a prefix length over 32");
            }
            const size = 2 ** (32 - bits);
            from = Math.floor(from / size) * size;
            to = from + size - 1;
        }
        if (to < from) {
            throw bad(item, "the range ends before it starts");
        }
        if (to - from + 1 > MAX_LOCAL_ADDRESSES) {
            throw bad(item, `${to - from + 1} addresses`);
        }
        return Array.from({ length: to - from + 1 }, (_, i) => numberToIpv4(from + i));
    }
    if (!net.isIP(item)) {
        throw bad(item, "not an IP address");
    }
    return [item];
}

/** Whether this host can send from `address`: one of its interfaces has it, or (Linux) it is loopback. */
function isLocal(address: string, interfaces: ReturnType<typeof os.networkInterfaces>, platform: string): boolean {
    const own = Object.values(interfaces)
        .flat()
        .some((i) => i !== undefined && i.address === address);
    // Linux routes all of 127.0.0.0/8 to lo (the "local" route table), though lo lists 127.0.0.1 only.
    return own || (platform === "linux" && net.isIPv4(address) && address.startsWith("127."));
}

/**
 * The addresses of --local-address, each one checked against this host's interfaces: an address it
 * does not have would fail every connection with EADDRNOTAVAIL after the run started.
 */
export function parseLocalAddresses(
    value: string | undefined,
    interfaces = os.networkInterfaces(),
    platform: string = process.platform,
): string[] | undefined {
    if (value === undefined) {
        return undefined;
    }
    const items = value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
    if (items.length === 0) {
        throw bad(value, "no address");
    }
    const addresses: string[] = [];
    for (const item of items) {
        addresses.push(...expand(item));
        if (addresses.length > MAX_LOCAL_ADDRESSES) {
            throw bad(value, `over ${MAX_LOCAL_ADDRESSES} addresses`);
        }
    }
    const foreign = addresses.find((a) => !isLocal(a, interfaces, platform));
    if (foreign !== undefined) {
        throw new FlagError(
            `--local-address ${foreign}: this host has no such address (os.networkInterfaces() lists ${Object.values(
                interfaces,
            )
                .flat()
                .map((i) => i?.address)
                .filter(Boolean)
                .join(", ")}); add it to an interface or leave it out`,
        );
    }
    if (new Set(addresses).size !== addresses.length) {
        throw bad(value, "an address given twice");
    }
    return addresses;
}

/**
 * A source address of the other family than the target's IP cannot reach it (every connection
 * would fail at connect), so it is refused before the run, as soon as the target is known.
 */
export function checkAddressFamilies(addresses: readonly string[] | undefined, baseUrl: string): void {
    const host = new URL(baseUrl).hostname.replace(/^\[(.*)\]$/, "$1");
    const family = net.isIP(host);
    const other = family === 0 ? undefined : addresses?.find((a) => net.isIP(a) !== family);
    if (other !== undefined) {
        throw new FlagError(
            `--local-address ${other}: an IPv${net.isIP(other)} address cannot reach the target ${host} (IPv${family}); give IPv${family} source addresses`,
        );
    }
}
