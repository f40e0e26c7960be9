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
