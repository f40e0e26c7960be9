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
    UNEXPECTED_STATUS:
        "a scenario's connect step got another HTTP status than it expects (such as 101 where 403 was due)",
    STEP_TIMEOUT: "a scenario step's deadline passed with nothing it waited for",
    STEP_MISMATCH: "a scenario step got messages or a close code other than it expects",
    UNEXPECTED_CLOSE: "the connection closed while a scenario step still needed it",
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

/** What was observed when something failed. */
export interface Evidence {
    status?: number;
    bodyExcerpt?: string;
    headers?: Record<string, string>;
    closeCode?: number;
    closeReason?: string;
    elapsedSec?: number;
    errorCode?: string;
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
