// The functions of a Server that the Admin UI's instrumentation wraps (Server.wrapForAdmin). They
// are wrapped on the instance only when instrument() is called, so a server that is never
// instrumented runs the originals: no test, no counter, nothing per packet.

import type { EngineHandler } from "../engine/server.js";
import type { ManagerHost } from "../manager/manager.js";
import type { NamespaceSocket } from "../socket/client.js";
import type { Packet } from "../socket/protocol/packet.js";
import type { DisconnectReason } from "../socket/types.js";

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
  /** A namespace connect was accepted (the CONNECT packet goes out). */
  acceptConnect(socket: NamespaceSocket): void;
  /** A socket leaves its namespace (its disconnect handler runs if it was connected). */
  closeSocket(socket: NamespaceSocket, reason: DisconnectReason, notifyClient: boolean): void;
  /** An EVENT packet of a connected socket, before its handler runs. */
  handleEvent(socket: NamespaceSocket, packet: Packet): void;
}
