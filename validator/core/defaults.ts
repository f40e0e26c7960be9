// The validator's defaults, stated once: its command line, its help text and the deploy
// pipeline's validation all read them from here.

/** The staging incident report's validation script probed these paths. */
export const DEFAULT_ENDPOINTS: readonly string[] = ["/ws", "/ws/test", "/websocket"];

/** A single validation run: handshake, echo round trips and a hold per endpoint. */
export const VALIDATION_DEFAULTS = {
    endpoints: DEFAULT_ENDPOINTS,
    messages: 10,
    echo: true,
    /** The incident report's proof that the 30 s cut is gone: a connection held past it. */
    holdSec: 40,
    holdMode: "both",
    pingIntervalSec: 5,
    /**
     * Pings in a row without a pong that fail a ping-mode hold: two, so one pong lost to a busy
     * moment does not fail a run, while a dead peer fails within three ping intervals.
     */
    maxMissedPongs: 2,
    handshakeTimeoutMs: 10_000,
    messageTimeoutMs: 5_000,
} as const;

/** Monitor mode: the incident runbook's monitor probed every 10 s for 10 minutes. */
export const MONITOR_DEFAULTS = { intervalSec: 10, durationSec: 600 } as const;

/** Load mode: new connections per second. */
export const LOAD_DEFAULTS = { rate: 50 } as const;

/**
 * The longest wait any flag or scenario step may ask for: two days, past the 24 h a backend
 * service's timeout is kept to (gcpdiag rule lb/BP/2025_002 flags more), so a hold can still watch
 * a day-long connection end. Node's timers take at most 2^31 - 1 ms (24.8 days) and fire at once
 * beyond it, which is how an unbounded hold "of 10000000000 s" used to end at once.
 */
export const MAX_WAIT_SEC = 172_800;
