// Errors with stable codes. Every code is listed in the README ("Errors"); a test keeps the two in sync.

export const SOCKJET_ERROR_CODES = ["ACK_TIMEOUT", "DISCONNECTED", "UNKNOWN_SID", "CONNECTION_REFUSED", "INVALID_ARGUMENT", "ENCODE_FAILED"] as const;
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
