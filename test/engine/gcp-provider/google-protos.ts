import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as protobuf from "protobufjs";
import { ENUM_FIELDS, PROTO_FILES } from "./proto-map";

// What the stand-in learns from Google's API definitions: for each mapped field, its enum's values
// with each value's comment, and the comments of the fields whose rules it enforces. Parsing the
// protos takes seconds (compute.proto alone is 4 MB) and every CLI command starts a new provider,
// so the facts are kept in a small JSON file keyed by the protos and the mapping.

const ROOT = path.resolve(__dirname, "..", "..", "..");
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "websocket-lb");

/** One enum-valued field, as its proto declares it. */
export interface EnumFact {
    /** The .proto file and the enum's full name, for error messages. */
    readonly source: string;
    readonly enumName: string;
    /** Each value's name and its comment in the proto ("" when it has none). */
    readonly values: Readonly<Record<string, string>>;
}

export interface ProtoFacts {
    /** By `<message>.<field>`. */
    readonly enums: Readonly<Record<string, EnumFact>>;
    /** Field comments by `<message>.<field>`, for the refusals that quote them. */
    readonly comments: Readonly<Record<string, string>>;
}

/** Fields whose comments the refusals quote (refusals.ts). */
const QUOTED_FIELDS: readonly string[] = [
    "google.cloud.compute.v1.BackendService.affinity_cookie_ttl_sec",
    "google.cloud.compute.v1.BackendService.strong_session_affinity_cookie",
    "google.cloud.compute.v1.BackendService.health_checks",
    "google.monitoring.v3.AlertPolicy.Condition.MetricThreshold.filter",
    "google.monitoring.v3.AlertPolicy.Condition.MetricThreshold.denominator_filter",
    "google.monitoring.v3.UptimeCheckConfig.period",
    "google.monitoring.v3.UptimeCheckConfig.timeout",
];

/** A package's shipped protos (the project's own install, as npm ci lays it out). */
function protosOf(pkg: string): string {
    return path.join(ROOT, "node_modules", pkg, "build", "protos");
}

function protoPath(file: string): string {
    return path.join(protosOf(PROTO_FILES[file]), file);
}

/** Where imports resolve: each shipping package's protos, then google-gax's common ones. */
function includeDirs(): string[] {
    return [...new Set(Object.values(PROTO_FILES))].map(protosOf);
}

/** The enum a field takes: its own type, or for Compute's string fields the one its comment names. */
function enumOf(message: protobuf.Type, field: protobuf.Field): protobuf.Enum | undefined {
    const resolved = field.resolve().resolvedType;
    if (resolved instanceof protobuf.Enum) {
        return resolved;
    }
    // compute.proto: `optional string session_affinity` "... Check the SessionAffinity enum for the list of possible values."
    const named = /Check the (\w+) enum for the list of possible values/.exec(field.comment ?? "")?.[1];
    const found = named ? message.lookup(named) : null;
    return found instanceof protobuf.Enum ? found : undefined;
}

function fieldOf(root: protobuf.Root, key: string): { message: protobuf.Type; field: protobuf.Field } {
    const dot = key.lastIndexOf(".");
    const message = root.lookupType(key.slice(0, dot));
    const field = message.fields[key.slice(dot + 1)];
    if (!field) {
        throw new Error(`${key.slice(0, dot)} has no field ${key.slice(dot + 1)} in Google's protos`);
    }
    return { message, field };
}

function fileOf(reflection: protobuf.ReflectionObject): string {
    const file = reflection.filename ?? "";
    const inModules = file.split(`${path.sep}node_modules${path.sep}`).pop() ?? file;
    return inModules.split(path.sep).join("/");
}

/**
 * compute.proto lists some values only in the enum's comment: "Additional supported values which
 * may be not listed in the enum directly due to technical reasons:" then one name a line.
 */
function listedInComment(comment: string | null): string[] {
    const tail = (comment ?? "").split(
        /Additional supported values which may be not listed in the enum directly[^\n]*\n/,
    )[1];
    return tail
        ? tail
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => /^[A-Z][A-Z0-9_]*$/.test(l))
        : [];
}

/** Parses the protos and extracts the facts (seconds: the cache makes it once). */
function parseProtoFacts(): ProtoFacts {
    const root = new protobuf.Root();
    const dirs = includeDirs();
    root.resolvePath = (_origin, target) =>
        dirs.map((d) => path.join(d, target)).find((candidate) => fs.existsSync(candidate)) ?? target;
    root.loadSync(Object.keys(PROTO_FILES), { keepCase: true, alternateCommentMode: true });
    const enums: Record<string, EnumFact> = {};
    for (const mapped of ENUM_FIELDS) {
        const key = `${mapped.message}.${mapped.field}`;
        const { message, field } = fieldOf(root, key);
        const e = enumOf(message, field);
        if (!e) {
            throw new Error(`${key} is not an enum field in Google's protos (proto-map.ts maps ${mapped.path})`);
        }
        const values: Record<string, string> = Object.fromEntries(
            Object.keys(e.values).map((v) => [v, e.comments[v] ?? ""]),
        );
        for (const extra of listedInComment(e.comment)) {
            values[extra] ??= "";
        }
        enums[key] = { source: fileOf(e), enumName: e.fullName.replace(/^\./, ""), values };
    }
    const comments = Object.fromEntries(QUOTED_FIELDS.map((key) => [key, fieldOf(root, key).field.comment ?? ""]));
    return { enums, comments };
}

/** A key that changes when a proto file, the mapping or the extraction changes. */
function cacheKey(): string {
    const h = crypto.createHash("sha256");
    for (const file of Object.keys(PROTO_FILES)) {
        const stat = fs.statSync(protoPath(file));
        h.update(`${file}:${stat.size}:${stat.mtimeMs};`);
    }
    h.update(JSON.stringify(ENUM_FIELDS));
    h.update(JSON.stringify(QUOTED_FIELDS));
    h.update(fs.readFileSync(__filename));
    return h.digest("hex").slice(0, 16);
}

let loaded: ProtoFacts | undefined;

/** The cache file for the protos and mapping of this checkout. */
export function protoFactsFile(): string {
    return path.join(CACHE_DIR, `gcp-proto-facts-${cacheKey()}.json`);
}

/** The facts, from the cache file when it matches, else parsed and cached. */
export function protoFacts(): ProtoFacts {
    if (loaded) {
        return loaded;
    }
    const file = protoFactsFile();
    if (fs.existsSync(file)) {
        try {
            loaded = JSON.parse(fs.readFileSync(file, "utf8")) as ProtoFacts;
            return loaded;
        } catch {
            // A cache file cut short (a killed process, a full disk) is parsed again below.
        }
    }
    loaded = parseProtoFacts();
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(loaded));
    fs.renameSync(tmp, file);
    // Facts of older protos or mappings are never read again.
    for (const stale of fs.readdirSync(CACHE_DIR).filter((f) => /^gcp-proto-facts-[0-9a-f]+\.json$/.test(f))) {
        if (path.join(CACHE_DIR, stale) !== file) {
            fs.rmSync(path.join(CACHE_DIR, stale), { force: true });
        }
    }
    return loaded;
}
