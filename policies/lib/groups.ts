// What the stack rules about health checks and instance groups share: which backend services
// carry WebSockets, and which health checks, instance groups and firewall rules of the stack
// belong to a backend service.
import { PolicyResource } from "@pulumi/policy";
import { referencedBy } from "./backends";
import { lastSegment, list, peek, UNKNOWN } from "./props";
import { HEALTH_CHECK_TYPES, INSTANCE_GROUP_TYPES, INSTANCE_TEMPLATE_TYPES, T, URL_MAP_TYPES } from "./types";
import { isRedirectOnly, websocketRoutes } from "./urlmaps";

type Props = Record<string, unknown>;

/** The backend services the stack's URL maps send WebSocket paths to (every candidate when a route is not known yet). */
export function websocketBackends(
    stack: readonly PolicyResource[],
    websocketPaths: readonly string[],
): Set<PolicyResource> {
    const found = new Set<PolicyResource>();
    for (const map of stack.filter((r) => URL_MAP_TYPES.includes(r.type) && !isRedirectOnly(r.props))) {
        for (const route of websocketRoutes(map, websocketPaths)) {
            route.backends.forEach((b) => found.add(b));
        }
    }
    return found;
}

/** Whether a resource is the one a link (id, self link or name) names. */
function named(resource: PolicyResource, link: unknown): boolean {
    if (typeof link !== "string") {
        return false;
    }
    const tail = lastSegment(link);
    return peek((): unknown => resource.props.name) === tail || resource.name === tail;
}

const ofTypesByStack = new WeakMap<readonly PolicyResource[], Map<readonly string[], PolicyResource[]>>();

/** The stack's resources of some types, found once per stack: these rules ask for every backend service. */
function ofTypes(stack: readonly PolicyResource[], types: readonly string[]): PolicyResource[] {
    let byTypes = ofTypesByStack.get(stack);
    if (!byTypes) {
        byTypes = new Map();
        ofTypesByStack.set(stack, byTypes);
    }
    let found = byTypes.get(types);
    if (!found) {
        found = stack.filter((r) => types.includes(r.type));
        byTypes.set(types, found);
    }
    return found;
}

/** Resources of the given types a property points at: through dependencies, else by name. */
function linked(
    owner: PolicyResource,
    property: string,
    links: unknown[],
    types: readonly string[],
    stack: readonly PolicyResource[],
): PolicyResource[] {
    const found = new Set(referencedBy(owner, property).filter((r) => types.includes(r.type)));
    for (const candidate of links.length === 0 ? [] : ofTypes(stack, types)) {
        if (links.some((link) => named(candidate, link))) {
            found.add(candidate);
        }
    }
    return [...found];
}

/** The health checks of the stack a backend service uses. */
export function healthChecksOf(service: PolicyResource, stack: readonly PolicyResource[]): PolicyResource[] {
    const value = peek((): unknown => service.props.healthChecks);
    const links = value === UNKNOWN ? [] : Array.isArray(value) ? (value as unknown[]) : [value];
    return linked(service, "healthChecks", links, HEALTH_CHECK_TYPES, stack);
}

/** The instance groups of the stack (managed or not) a backend service sends to. */
export function instanceGroupsOf(service: PolicyResource, stack: readonly PolicyResource[]): PolicyResource[] {
    const backends = peek(() => list(service.props.backends));
    const links = backends === UNKNOWN ? [] : backends.map((_, i) => peek(() => list(service.props.backends)[i].group));
    return linked(service, "backends", links, INSTANCE_GROUP_TYPES, stack);
}

/** A group's named ports as [name, port] pairs; undefined while they are unknown. */
export function namedPortsOf(group: PolicyResource): Array<[string, number]> | undefined {
    const ports = peek(() =>
        list(group.props.namedPorts).map((p) => [String(p.name), Number(p.port)] as [string, number]),
    );
    return ports === UNKNOWN ? undefined : ports;
}

/** The network tags of the instances a managed group makes, when its template is in the stack and known. */
export function instanceTagsOf(group: PolicyResource, stack: readonly PolicyResource[]): string[] | undefined {
    if (group.type === T.instanceGroup) {
        return undefined;
    }
    const versions = peek(() => list(group.props.versions).map((v) => v.instanceTemplate));
    const links = versions === UNKNOWN ? [] : versions;
    const templates = linked(group, "versions", links, INSTANCE_TEMPLATE_TYPES, stack);
    if (templates.length === 0) {
        return undefined;
    }
    const tags = peek(() => templates.flatMap((t) => (Array.isArray(t.props.tags) ? (t.props.tags as string[]) : [])));
    return tags === UNKNOWN ? undefined : tags;
}

/** Whether an IPv4 CIDR range holds another, such as 0.0.0.0/0 holding 35.191.0.0/16. */
export function cidrCovers(outer: string, inner: string): boolean {
    const parse = (cidr: string): [number, number] | undefined => {
        const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr.trim());
        if (!match || Number(match[5] ?? 32) > 32 || match.slice(1, 5).some((o) => Number(o) > 255)) {
            return undefined;
        }
        const address = match.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
        return [address, Number(match[5] ?? 32)];
    };
    const a = parse(outer);
    const b = parse(inner);
    if (!a || !b || a[1] > b[1]) {
        return false;
    }
    const block = 2 ** (32 - a[1]);
    return Math.floor(a[0] / block) === Math.floor(b[0] / block);
}

/** Whether a firewall `allows` entry lets TCP reach a port (any port when `port` is undefined). */
export function allowsTcp(allow: Props, port: number | undefined): boolean {
    const protocol = typeof allow.protocol === "string" ? allow.protocol.toLowerCase() : "";
    if (protocol !== "tcp" && protocol !== "all" && protocol !== "6") {
        return false;
    }
    const ports = Array.isArray(allow.ports) ? (allow.ports as unknown[]).map(String) : [];
    if (ports.length === 0 || port === undefined) {
        return true;
    }
    return ports.some((range) => {
        const [low, high = low] = range.split("-").map(Number);
        return low <= port && port <= high;
    });
}

/** Whether a firewall rule of the stack is an enabled ingress rule: direction defaults to INGRESS. */
export function isOpenIngress(rule: PolicyResource): boolean {
    const props = rule.props;
    return (props.direction ?? "INGRESS") === "INGRESS" && props.disabled !== true;
}
