// The HTTP-level errors of Engine.IO v4: a status and a JSON body `{"code":N,"message":"..."}`.
// Codes and messages are exactly those of the reference server, so clients that parse them work.

export const EngineErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

export const ENGINE_ERROR_MESSAGES: Record<EngineErrorCode, string> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
};

export function engineErrorStatus(code: EngineErrorCode): number {
  return code === EngineErrorCode.FORBIDDEN ? 403 : 400;
}

export function engineErrorBody(code: EngineErrorCode, message?: string): string {
  return JSON.stringify({ code, message: message ?? ENGINE_ERROR_MESSAGES[code] });
}
