// Stable failure codes, in the manner of ws's own error codes: scripts match on the code, people
// read the message, and the evidence says what was seen on the wire.

export const FAILURE_CODES = {
    DNS_FAILED: "the host name did not resolve",
    CONNECTION_REFUSED: "nothing accepted the TCP connection",
    CONNECTION_RESET: "the peer reset the connection during the handshake",
    TLS_FAILED: "the TLS handshake failed (certificate or protocol)",
    HANDSHAKE_REFUSED: "the server answered the upgrade with an HTTP status instead of 101",
    HANDSHAKE_TIMEOUT: "no answer to the upgrade before the handshake deadline",
    PROTOCOL_ERROR: "the server's 101 answer broke the WebSocket protocol",
    ECHO_TIMEOUT: "an echo did not come back before its deadline",
    ECHO_MISMATCH: "an echo came back different from what was sent",
    CUT_BEFORE_HOLD: "the connection closed before the hold time",
    PING_TIMEOUT:
        "pings in a row got no pong: the peer (or a proxy holding the connection for it) no longer answers, though TCP is still up",
    INVALID_FRAME:
        "a frame broke the WebSocket protocol, so the connection was closed with 1002 or 1007 (RFC 6455 7.4.1): an invalid frame from the server, or the server says ours was",
    FRAME_TOO_LARGE:
        "a frame was over the size limit, so the connection was closed with 1009 (RFC 6455 7.4.1): a message larger than the receiver takes",
    SERVER_ERROR:
        "the server closed with 1011 (RFC 6455 7.4.1): an unexpected condition on its side, not a load balancer's timeout",
    UNEXPECTED_STATUS:
        "a scenario's connect step got another HTTP status than it expects (such as 101 where 403 was due)",
    STEP_TIMEOUT: "a scenario step's deadline passed with nothing it waited for",
    STEP_MISMATCH: "a scenario step got messages or a close code other than it expects",
    UNEXPECTED_CLOSE: "the connection closed while a scenario step still needed it",
    INTERRUPTED: "Ctrl-C or SIGTERM stopped a scenario step before its end: the run was not judged on it",
    AFFINITY_NO_COOKIE: "the 101 response set no affinity cookie",
    AFFINITY_NO_BACKEND_ID: "a response did not name its backend where --backend-id looks",
    AFFINITY_BROKEN: "a reconnection that sent the affinity cookie reached another backend",
    ORIGIN_NOT_REFUSED: "an upgrade sent with a foreign Origin was accepted (101)",
    ORIGIN_WRONG_STATUS: "an upgrade sent with a foreign Origin was refused, but with another status than expected",
    ORIGIN_ALLOWED_REFUSED: "an upgrade sent with the allowed Origin was not accepted",
    RATE_LIMIT_NOT_ENFORCED: "handshakes from one source well past the declared limit were all accepted",
    RATE_LIMIT_WRONG_STATUS: "handshakes past the limit were refused, but with another status than expected",
} as const;

export type FailureCode = keyof typeof FAILURE_CODES;

/** The codes that mean no WebSocket was opened at all. */
export const HANDSHAKE_FAILURES: ReadonlySet<FailureCode> = new Set<FailureCode>([
    "DNS_FAILED",
    "CONNECTION_REFUSED",
    "CONNECTION_RESET",
    "TLS_FAILED",
    "HANDSHAKE_REFUSED",
    "HANDSHAKE_TIMEOUT",
    "PROTOCOL_ERROR",
]);

/**
 * A close code with a cause of its own, and the code a cut connection then fails with: these say
 * what broke, where a plain cut only says when. 1007 (text that is not UTF-8) is an invalid frame too.
 */
const CLOSE_CODE_FAILURES: Readonly<Record<number, FailureCode>> = {
    1002: "INVALID_FRAME",
    1007: "INVALID_FRAME",
    1009: "FRAME_TOO_LARGE",
    1011: "SERVER_ERROR",
};

/**
 * ws's error codes for a frame it refused (its doc/ws.md, "Error codes"), and the close code it
 * then sends (lib/receiver.js): its own 'close' event reports 1006, as no close frame came back.
 */
const WS_FRAME_ERRORS: Readonly<Record<string, number>> = {
    WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
    WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
    WS_ERR_INVALID_UTF8: 1007,
};

/**
 * Why a connection ended, when the close says more than "cut": the failure code and the close code
 * that names it (the server's, or the one ws sent when it refused a frame).
 */
export function closeCause(
    closeCode: number | undefined,
    wsErrorCode: string | undefined,
): { code: FailureCode; closeCode: number } | undefined {
    if (wsErrorCode?.startsWith("WS_ERR_")) {
        const sent = WS_FRAME_ERRORS[wsErrorCode] ?? 1002;
        return { code: CLOSE_CODE_FAILURES[sent], closeCode: sent };
    }
    const code = closeCode === undefined ? undefined : CLOSE_CODE_FAILURES[closeCode];
    return code === undefined ? undefined : { code, closeCode: closeCode! };
}

/** What was observed when something failed. */
export interface Evidence {
    status?: number;
    bodyExcerpt?: string;
    headers?: Record<string, string>;
    closeCode?: number;
    closeReason?: string;
    elapsedSec?: number;
    errorCode?: string;
    /** Pings sent and pongs received on a held connection. */
    pings?: number;
    pongs?: number;
    expected?: string;
    received?: string;
}

export interface Failure {
    readonly code: FailureCode;
    readonly message: string;
    readonly evidence: Evidence;
}

export function failure(code: FailureCode, message: string, evidence: Evidence = {}): Failure {
    return { code, message, evidence };
}
