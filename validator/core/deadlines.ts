import { performance } from "perf_hooks";

/** Something with a deadline that a `DeadlineSweep` watches. */
export interface Watched {
    /** performance.now() by which it must have settled. */
    readonly dueAt: number;
    /** True once its deadline no longer matters; the sweep then drops it without expiring it. */
    readonly settled: boolean;
    /** Its deadline passed while it was unsettled. Called at most once. */
    expire(): void;
}

interface Lane {
    items: Watched[];
    /** Items before this index have been swept. */
    head: number;
}

/** Swept prefixes are cut off the lane once they are this long and at least half of it. */
const COMPACT_AFTER = 1024;

/**
 * Deadlines for thousands of things at once with one timer. A load run has a handshake in flight
 * per connection, and a setTimeout each costs a timer object, a closure and list work on the way in
 * and out, plus a closure context kept alive after it was cleared. Things added with the same delay
 * come due in the order they were added (the clock only moves on), so each delay keeps a
 * first-in-first-out lane and the one timer waits for the earliest lane head; adding is O(1).
 */
export class DeadlineSweep {
    private readonly lanes = new Map<number, Lane>();
    private unsettled = 0;
    private timer: NodeJS.Timeout | undefined;
    private timerAt = Infinity;

    /** Watches `item`, whose dueAt must be now + delayMs. */
    add(item: Watched, delayMs: number): void {
        let lane = this.lanes.get(delayMs);
        if (lane === undefined) {
            lane = { items: [], head: 0 };
            this.lanes.set(delayMs, lane);
        }
        lane.items.push(item);
        this.unsettled += 1;
        if (item.dueAt < this.timerAt) {
            this.arm(item.dueAt);
        }
    }

    /**
     * One watched item has settled (or expired). With none left unsettled the timer and every lane
     * go, so the sweep never keeps a process alive nor holds settled items for long.
     */
    release(): void {
        this.unsettled -= 1;
        if (this.unsettled === 0) {
            this.disarm();
            this.lanes.clear();
        }
    }

    /** How many items are watched and not yet released: for tests. */
    get pending(): number {
        return this.unsettled;
    }

    private arm(at: number): void {
        this.disarm();
        this.timerAt = at;
        this.timer = setTimeout(() => this.sweep(), Math.max(0, at - performance.now()));
    }

    private disarm(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.timerAt = Infinity;
    }

    private sweep(): void {
        this.timer = undefined;
        this.timerAt = Infinity;
        const now = performance.now();
        const due: Watched[] = [];
        let next = Infinity;
        for (const [delay, lane] of this.lanes) {
            while (lane.head < lane.items.length) {
                const item = lane.items[lane.head];
                if (!item.settled && item.dueAt > now) {
                    next = Math.min(next, item.dueAt);
                    break;
                }
                if (!item.settled) {
                    due.push(item);
                }
                lane.head += 1;
            }
            if (lane.head === lane.items.length) {
                this.lanes.delete(delay);
            } else if (lane.head >= COMPACT_AFTER && lane.head * 2 >= lane.items.length) {
                lane.items = lane.items.slice(lane.head);
                lane.head = 0;
            }
        }
        if (next < Infinity) {
            this.arm(next);
        }
        // Expired last: an expiry may release the last item, which clears the lanes walked above.
        // In due order across lanes: a late timer (a busy machine) finds several lanes due at once.
        due.sort((x, y) => x.dueAt - y.dueAt);
        for (const item of due) {
            item.expire();
        }
    }
}
