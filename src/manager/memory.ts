// The default client manager: rooms in this process's memory.
// A client is always in its own room (its sid); that room is implicit, so a client that joins no
// other room costs one map entry and no Set.

import type { ClientManager, EmitOperation, ManagerHost, Operation, ServerSideEmit, SocketDescription, SocketQuery } from "./manager.js";

class NamespaceRooms {
  /** sid → the explicit rooms it is in (null until it joins one). */
  readonly members = new Map<string, Set<string> | null>();
  readonly rooms = new Map<string, Set<string>>();
}

export class InMemoryManager implements ClientManager {
  readonly local: boolean = true;
  protected host: ManagerHost | null = null;
  private readonly namespaces = new Map<string, NamespaceRooms>();

  initialize(host: ManagerHost): void {
    this.host = host;
  }

  connect(namespace: string, sid: string): void {
    let ns = this.namespaces.get(namespace);
    if (ns === undefined) this.namespaces.set(namespace, (ns = new NamespaceRooms()));
    if (!ns.members.has(sid)) ns.members.set(sid, null);
  }

  disconnect(namespace: string, sid: string): void {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined) return;
    const rooms = ns.members.get(sid);
    if (rooms) for (const room of rooms) this.removeFromRoom(ns, room, sid);
    ns.members.delete(sid);
    if (ns.members.size === 0) this.namespaces.delete(namespace);
  }

  async execute(operation: Operation): Promise<void> {
    this.apply(operation);
  }

  /** Applies an operation to the clients of this process (broker managers call this for received operations). */
  protected apply(operation: Operation): void {
    switch (operation.type) {
      case "emit":
        return this.emitLocal(operation);
      case "enter_room":
        return this.enterRoom(operation.namespace, operation.sid, operation.room);
      case "leave_room":
        return this.leaveRoom(operation.namespace, operation.sid, operation.room);
      case "close_room":
        return this.closeRoom(operation.namespace, operation.room);
      case "disconnect":
        if (this.host?.isLocal(operation.namespace, operation.sid)) this.host.disconnectLocal(operation.namespace, operation.sid, operation.close === true);
        return;
    }
  }

  getRooms(namespace: string, sid: string): string[] {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined || !ns.members.has(sid)) return [];
    const rooms = ns.members.get(sid);
    return rooms ? [sid, ...rooms] : [sid];
  }

  getParticipants(namespace: string, room: string | null): string[] {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined) return [];
    if (room === null) return [...ns.members.keys()];
    const set = ns.rooms.get(room);
    if (set) return ns.members.has(room) ? [...new Set([...set, room])] : [...set];
    return ns.members.has(room) ? [room] : [];
  }

  getNamespaces(): string[] {
    return [...this.namespaces.keys()];
  }

  // ---- cluster queries: one server, so every answer is local and complete --------------------------

  async fetchSockets(query: SocketQuery, _timeout?: number): Promise<SocketDescription[]> {
    return this.localSockets(query, "local");
  }

  async allRooms(namespace: string, _timeout?: number): Promise<string[]> {
    return this.localRooms(namespace);
  }

  /** No other server to run the handler: resolves [] (socket.io's serverSideEmit never runs the sender's own handlers). */
  async serverSideEmit(_emit: ServerSideEmit, _timeout?: number): Promise<unknown[]> {
    return [];
  }

  serverCount(): number {
    return 1;
  }

  /** This process's answer to a fetchSockets query; `server` names this server in each description. */
  localSockets(query: SocketQuery, server: string): SocketDescription[] {
    const ns = this.namespaces.get(query.namespace);
    if (ns === undefined) return [];
    const excluded = new Set<string>();
    for (const room of query.except) for (const sid of this.getParticipants(query.namespace, room)) excluded.add(sid);
    const sids = query.rooms === null ? ns.members.keys() : new Set(query.rooms.flatMap((room) => this.getParticipants(query.namespace, room)));
    const withData = query.data !== false;
    const out: SocketDescription[] = [];
    for (const sid of sids) {
      if (excluded.has(sid)) continue;
      const data = withData ? this.host?.socketData?.(query.namespace, sid) : undefined;
      out.push({ sid, namespace: query.namespace, rooms: this.getRooms(query.namespace, sid), data, server });
    }
    return out;
  }

  /** Every room of a namespace among this process's clients, each sid's own room included (socket.io's allRooms). */
  localRooms(namespace: string): string[] {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined) return [];
    return [...new Set([...ns.members.keys(), ...ns.rooms.keys()])];
  }

  async close(): Promise<void> {
    this.namespaces.clear();
  }

  protected enterRoom(namespace: string, sid: string, room: string): void {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined || !ns.members.has(sid) || room === sid) return;
    let rooms = ns.members.get(sid);
    if (!rooms) ns.members.set(sid, (rooms = new Set()));
    if (rooms.has(room)) return;
    rooms.add(room);
    let set = ns.rooms.get(room);
    if (set === undefined) ns.rooms.set(room, (set = new Set()));
    set.add(sid);
    this.host?.joinedRoom?.(namespace, sid, room);
  }

  protected leaveRoom(namespace: string, sid: string, room: string): void {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined) return;
    const rooms = ns.members.get(sid);
    if (!rooms || !rooms.delete(room)) return;
    if (rooms.size === 0) ns.members.set(sid, null);
    this.removeFromRoom(ns, room, sid);
    this.host?.leftRoom?.(namespace, sid, room);
  }

  protected closeRoom(namespace: string, room: string): void {
    const ns = this.namespaces.get(namespace);
    const set = ns?.rooms.get(room);
    if (ns === undefined || set === undefined) return;
    for (const sid of [...set]) this.leaveRoom(namespace, sid, room);
  }

  protected emitLocal(operation: EmitOperation): void {
    const host = this.host;
    if (host === null) return;
    // Logged even when no client of the namespace is connected here: a disconnected one may come back for it.
    const args = host.recordEmit !== undefined && operation.callback === undefined ? host.recordEmit(operation) : operation.args;
    const op = args === operation.args ? operation : { ...operation, args };
    const ns = this.namespaces.get(op.namespace);
    if (ns === undefined) return;
    // Exactly one room (or the whole namespace), nobody skipped, no callback: "all members of room R
    // of namespace N" is a unit the host may deliver natively (a topic publish on Bun).
    if (op.callback === undefined && op.skip.length === 0 && host.deliverToRoom !== undefined) {
      const rooms = op.rooms;
      if (rooms === null) {
        host.deliverToRoom(op.namespace, null, ns.members.keys(), ns.members.size, op.event, op.args);
        return;
      }
      if (rooms.length === 1) {
        const room = rooms[0]!;
        const set = ns.rooms.get(room);
        // A sid's own room is one client: the general path. So is a room named like a member sid.
        if (set !== undefined && !ns.members.has(room)) {
          host.deliverToRoom(op.namespace, room, set, set.size, op.event, op.args);
          return;
        }
      }
    }
    const recipients = this.resolve(ns, op.rooms, op.skip);
    if (op.callback) {
      for (const sid of recipients) host.deliverWithAck(op.namespace, sid, op.event, op.args, op.callback);
    } else {
      host.deliver(op.namespace, recipients, op.event, op.args);
    }
  }

  /** The sids an emit reaches. Iterates the shared structures directly when nothing needs merging. */
  private resolve(ns: NamespaceRooms, rooms: readonly string[] | null, skip: readonly string[]): Iterable<string> {
    if (rooms === null) {
      if (skip.length === 0) return ns.members.keys();
      const skipSet = new Set(skip);
      return [...ns.members.keys()].filter((sid) => !skipSet.has(sid));
    }
    if (rooms.length === 1 && skip.length === 0) {
      const room = rooms[0]!;
      const set = ns.rooms.get(room);
      if (set === undefined) return ns.members.has(room) ? [room] : [];
      if (!ns.members.has(room)) return set;
    }
    const out = new Set<string>();
    for (const room of rooms) {
      const set = ns.rooms.get(room);
      if (set) for (const sid of set) out.add(sid);
      if (ns.members.has(room)) out.add(room);
    }
    for (const sid of skip) out.delete(sid);
    return out;
  }

  private removeFromRoom(ns: NamespaceRooms, room: string, sid: string): void {
    const set = ns.rooms.get(room);
    if (set === undefined) return;
    set.delete(sid);
    if (set.size === 0) ns.rooms.delete(room);
  }
}
