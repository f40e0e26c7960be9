import * as fs from "fs";
import * as path from "path";

/** One resource as the stand-in's pretend Google Cloud holds it. */
export interface CloudRecord {
    readonly type: string;
    readonly urn: string;
    readonly props: Record<string, unknown>;
}

/**
 * What exists "in Google Cloud" for the stand-in: resources by id. Each CLI command starts a new
 * provider process, so the records live in a JSON file (GCP_STANDIN_CLOUD_FILE) to outlast it;
 * without that variable they live in memory for one command only. The engine calls the provider
 * concurrently but within one process, and every write is synchronous, so the file stays whole.
 */
export class Cloud {
    private readonly byId: Map<string, CloudRecord>;

    constructor(private readonly file: string | undefined) {
        this.byId = new Map(
            file && fs.existsSync(file)
                ? Object.entries(JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, CloudRecord>)
                : [],
        );
    }

    get persistent(): boolean {
        return this.file !== undefined;
    }

    get(id: string): CloudRecord | undefined {
        return this.byId.get(id);
    }

    /** Every resource, for rules that look across them (who may read a secret). */
    records(): CloudRecord[] {
        return [...this.byId.values()];
    }

    put(id: string, record: CloudRecord): void {
        this.byId.set(id, record);
        this.save();
    }

    remove(id: string): void {
        this.byId.delete(id);
        this.save();
    }

    private save(): void {
        if (!this.file) {
            return;
        }
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        const tmp = `${this.file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.byId), null, 2));
        fs.renameSync(tmp, this.file);
    }
}
