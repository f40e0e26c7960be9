// The validator's defaults, stated once: its command line, its help text and the deploy
// pipeline's validation all read them from here.

/** The seed's validation script probed these paths. */
export const DEFAULT_ENDPOINTS: readonly string[] = ["/ws", "/ws/test", "/websocket"];

/** A single validation run: handshake, echo round trips and a hold per endpoint. */
export const VALIDATION_DEFAULTS = {
    endpoints: DEFAULT_ENDPOINTS,
    messages: 10,
    echo: true,
    /** The seed's proof that the 30 s cut is gone: a connection held past it. */
    holdSec: 40,
    holdMode: "both",
    pingIntervalSec: 5,
    handshakeTimeoutMs: 10_000,
    messageTimeoutMs: 5_000,
} as const;

/** Monitor mode: the seed's monitor probed every 10 s for 10 minutes. */
export const MONITOR_DEFAULTS = { intervalSec: 10, durationSec: 600 } as const;

/** Load mode: new connections per second. */
export const LOAD_DEFAULTS = { rate: 50 } as const;
