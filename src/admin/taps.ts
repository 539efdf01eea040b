// What the Admin UI's instrumentation hooks into a Server (Server.wrapForAdmin). The hooks are put
// in place on the instance only when instrument() is called, so a server that is never
// instrumented runs its functions as they are: no test, no counter, nothing per packet.
//
// Two kinds: replacements for the functions of the server's public interfaces (its ManagerHost and
// EngineHandler), which the instrumentation wraps around the originals it is given; and observers
// of the server's own steps, which the server calls around the step itself, whatever that step's
// arguments become.

import type { EngineHandler } from "../engine/server.js";
import type { ManagerHost } from "../manager/manager.js";
import type { NamespaceSocket } from "../socket/client.js";
import type { Packet } from "../socket/protocol/packet.js";
import type { DisconnectReason } from "../socket/types.js";

/** The originals handed to the instrumentation, and what it may replace them with. */
export interface ServerTaps {
  /** Local delivery of an event to sids of a namespace (ManagerHost.deliver). */
  deliver: ManagerHost["deliver"];
  /** Local delivery to every member of a room or namespace (ManagerHost.deliverToRoom). */
  deliverToRoom: NonNullable<ManagerHost["deliverToRoom"]>;
  /** Local delivery to one sid with an acknowledgement (ManagerHost.deliverWithAck). */
  deliverWithAck: ManagerHost["deliverWithAck"];
  /** A local sid entered a room other than its own. */
  joinedRoom: NonNullable<ManagerHost["joinedRoom"]>;
  /** A local sid left a room other than its own. */
  leftRoom: NonNullable<ManagerHost["leftRoom"]>;
  /** The engine's events: sessions opened and closed, every message received. */
  engineHandler: EngineHandler;
}

/** Observers of the server's own steps. */
export interface ServerObservers {
  /** After a namespace connect was accepted (its CONNECT packet is queued). */
  connected?(socket: NamespaceSocket): void;
  /** After a socket left its namespace; `wasConnected`: it had been accepted (its disconnect handler ran). */
  closed?(socket: NamespaceSocket, reason: DisconnectReason, wasConnected: boolean): void;
  /** Before the handler of an EVENT packet of a connected socket runs. */
  eventReceived?(socket: NamespaceSocket, packet: Packet): void;
}
