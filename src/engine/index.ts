// The Engine.IO layer on its own (like python-engineio): sessions, transports, heartbeats.

export { EngineServer, type EngineHandler, type EngineServerOptions, type SessionTable, type UpgradeDecision } from "./server.js";
export { EngineSocket, type CloseReason, type Transport } from "./socket.js";
export { OutPacket } from "./out-packet.js";
export type { EngineOptions, CorsOptions, CookieOptions, CompressionOptions, TransportName } from "./options.js";
export type { EngineRequest, HttpExchange, WebSocketPeer, OutFrame, BodyResult, Compressor, ResponseHeaders } from "./http.js";
export { EngineErrorCode } from "./protocol/errors.js";
export * as engineProtocol from "./protocol/packet.js";
export { TimerQueue, TimerEntry, TimerNode, systemClock, type Clock, type TimerTarget } from "./timers.js";
export { NodeEngineAdapter } from "../runtime/node.js";
export { FetchEngineAdapter, WebSocketBinding, type FetchRuntime, type AcceptedUpgrade } from "../runtime/fetch.js";
