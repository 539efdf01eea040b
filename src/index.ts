// The public API of sockjet. Everything a user needs is exported here; the Engine.IO layer on its
// own is available from "sockjet/engine".

export { Server } from "./socket/server.js";
export type { AdminOptions, AdminInstrumentation, AdminAuth, AdminAuthCheck, BasicAuth, SerializedSocket, AggregatedEvent } from "./admin/instrument.js";
export { RESERVED_EVENTS } from "./socket/protocol/packet.js";
export { Namespace, on, type ScopedEmitOptions } from "./socket/namespace.js";
export { Args, args } from "./socket/args.js";
export { SockjetError, TimeoutError, ConnectionRefusedError, ClusterQueryError, SOCKJET_ERROR_CODES, type SockjetErrorCode } from "./socket/errors.js";
export { DISCONNECT_REASONS } from "./socket/types.js";
export type {
  AckCallback,
  AnyNamespaceHandler,
  CallOptions,
  CatchAllHandler,
  ClusterQueryOptions,
  ConnectHandler,
  ConnectInfo,
  DefaultEvents,
  DisconnectHandler,
  DisconnectOptions,
  DisconnectReason,
  EmitOptions,
  Environ,
  EventData,
  EventHandler,
  EventsMap,
  FetchSocketsOptions,
  ServerOptions,
  ServerSideEmitOptions,
  ServerSideHandler,
} from "./socket/types.js";
export type { JsonCodec } from "./socket/protocol/packet.js";
export { MemoryRecoveryStore } from "./socket/recovery-memory.js";
export type {
  ConnectionStateRecoveryOptions,
  MissedEvent,
  RecoveryHost,
  RecoveryLimits,
  RecoverySession,
  RecoveryStore,
  RestoredSession,
} from "./socket/recovery.js";
export { InMemoryManager } from "./manager/memory.js";
export type {
  ClientManager,
  ManagerHost,
  Operation,
  EmitOperation,
  RoomOperation,
  CloseRoomOperation,
  DisconnectOperation,
  ClusterQueries,
  QueryHost,
  ServerSideEmit,
  SocketDescription,
  SocketQuery,
} from "./manager/manager.js";
export type { EngineOptions, CorsOptions, CookieOptions, CompressionOptions, TransportName } from "./engine/options.js";
export type { StaticFiles, StaticTarget } from "./runtime/static.js";
export type { FetchApp, FetchHandler, FetchHandlerOptions } from "./runtime/fetch.js";
export type { Logger, LogFields } from "./util/logger.js";
export { jsonLogger } from "./util/logger.js";
