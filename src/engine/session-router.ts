// The engine's one hook for a cluster without sticky sessions (src/manager/nosticky): a request or
// WebSocket upgrade whose sid is not held here, but whose prefix names another server, is handed to
// the router instead of being answered "Session ID unknown". Nothing here runs for a session held
// locally: the engine asks the router only after its own lookup missed.

import type { EngineRequest, HttpExchange, WebSocketPeer } from "./http.js";
import type { EngineProtocol } from "./options.js";
import type { UpgradeDecision } from "./server.js";
import type { WebSocketTransport } from "./transports/websocket.js";

export interface SessionRouter {
  /** Put in front of every sid this server generates, so that any server knows the owner from the sid. */
  readonly prefix: string;
  /** True when `sid` belongs to another server (its prefix is not this server's). */
  isRemote(sid: string): boolean;
  /** Answers a polling request (GET or POST) of another server's session, through that server. */
  forward(exchange: HttpExchange, sid: string): void | Promise<void>;
  /** Decides a WebSocket upgrade of another server's session; an accepted decision carries its relay. */
  prepareUpgrade(request: EngineRequest, sid: string, protocol: EngineProtocol, base64: boolean): UpgradeDecision | Promise<UpgradeDecision>;
}

/** The WebSocket of an upgrade accepted for another server's session: it carries frames both ways. */
export interface WebSocketRelay {
  accept(peer: WebSocketPeer): WebSocketTransport;
}
