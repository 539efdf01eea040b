import type { EngineSocket, CloseReason } from "./socket.js";
import type { ResolvedEngineOptions } from "./options.js";
import type { TimerQueue } from "./timers.js";
import type { Logger } from "../util/logger.js";
import type { HttpExchange } from "./http.js";
import type { EngineErrorCode } from "./protocol/errors.js";
import type { OutPacket } from "./out-packet.js";

/** Counts the packets a session writes (the Admin UI's traffic figures); see EngineServer.meter. */
export interface TrafficMeter {
  /** Packets just handed to a transport, in order. The array is reused after the call returns. */
  sent(packets: readonly OutPacket[]): void;
}

/** What a session and its transports need from the server that owns them. */
export interface SessionHost {
  readonly options: ResolvedEngineOptions;
  readonly timers: TimerQueue;
  readonly logger: Logger;
  /** Null (or absent) unless something measures traffic: then told of every write. */
  readonly meter?: TrafficMeter | null;
  scheduleFlush(socket: EngineSocket): void;
  onSessionMessage(socket: EngineSocket, data: string | Uint8Array): void;
  /** The session is over for the application (called once). */
  onSessionClosed(socket: EngineSocket, reason: CloseReason): void;
  /** The session can be forgotten: its last packet has left or it was aborted. Idempotent. */
  releaseSession(socket: EngineSocket): void;
  /** Answers a long-poll with a payload (compressed when worth it). */
  respondPoll(exchange: HttpExchange, payload: string | Uint8Array, contentType: string): void;
  /** Answers with the protocol's JSON error body (and CORS headers). */
  respondError(exchange: HttpExchange, code: EngineErrorCode, message?: string, status?: number): void;
  /** Answers a POST with `ok`. */
  respondOk(exchange: HttpExchange): void;
}
