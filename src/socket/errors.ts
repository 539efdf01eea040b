// Errors with stable codes. Every code is listed in the README ("Errors"); a test keeps the two in sync.

export const SOCKJET_ERROR_CODES = ["ACK_TIMEOUT", "DISCONNECTED", "UNKNOWN_SID", "CONNECTION_REFUSED", "INVALID_ARGUMENT", "ENCODE_FAILED", "CLUSTER_INCOMPLETE"] as const;
export type SockjetErrorCode = (typeof SOCKJET_ERROR_CODES)[number];

export class SockjetError extends Error {
  constructor(
    readonly code: SockjetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SockjetError";
  }
}

/** `call()` got no acknowledgement in time. */
export class TimeoutError extends SockjetError {
  constructor(message = "acknowledgement timed out") {
    super("ACK_TIMEOUT", message);
    this.name = "TimeoutError";
  }
}

/**
 * Thrown by a `connect` handler to refuse a connection. The client receives a CONNECT_ERROR whose
 * `message` is the first argument and whose `data` is the second (python-socketio's
 * `ConnectionRefusedError(*args)`).
 */
export class ConnectionRefusedError extends SockjetError {
  readonly data: unknown;
  constructor(message = "Connection rejected by server", data?: unknown) {
    super("CONNECTION_REFUSED", message);
    this.name = "ConnectionRefusedError";
    this.data = data;
  }

  /** The CONNECT_ERROR payload sent to the client. */
  toPayload(): { message: string; data?: unknown } {
    return this.data === undefined ? { message: this.message } : { message: this.message, data: this.data };
  }
}

/**
 * A cluster-wide query (fetchSockets, fetchRooms, fetchParticipants, allRooms,
 * serverSideEmitWithAck) did not get the answer of every server it expected: one did not reply
 * within the timeout, the request could not be published, or this server is cut from the broker.
 * `partial` holds what did arrive, merged as the full answer would have been (this server's own
 * answer included).
 */
export class ClusterQueryError<T = unknown> extends SockjetError {
  constructor(
    message: string,
    /** How many other servers were asked. */
    readonly expected: number,
    /** How many of them answered in time. */
    readonly answered: number,
    readonly partial: T,
    options?: { cause?: unknown },
  ) {
    super("CLUSTER_INCOMPLETE", message, options);
    this.name = "ClusterQueryError";
  }
}
