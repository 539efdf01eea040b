// The cluster seen whole, over a broker: who the other servers are, and queries that every one of
// them answers (fetchSockets, allRooms, serverSideEmit with replies). Works on every PubSubDriver, so
// Redis, RabbitMQ, NATS and the in-memory broker behave alike.
//
// Membership. Each server publishes a `heartbeat` when it connects (and reconnects) and every
// `heartbeatInterval` ms. A server that hears a heartbeat from a host it does not know answers with
// its own at once, so a newcomer learns the whole cluster within one round trip instead of one
// interval. A host not heard from for `heartbeatTimeout` ms is dropped (a crashed process, or one
// cut from the broker); a server that closes publishes `leave` and is dropped at once. Write-only
// emitters and python-socketio processes send no heartbeats: they are not servers here.
//
// Queries. A request names the servers it waits for: those known alive when it is sent. Each
// answers with a `response` addressed to the requester. The query settles when all of them have
// answered (answers from a server that joined meanwhile are merged too), or at the timeout, when it
// rejects with ClusterQueryError (CLUSTER_INCOMPLETE) carrying the partial answer. It rejects at once
// when this server is not connected to the broker (its view of the cluster is then unknown) or the
// request cannot be published. This server's own answer is computed locally, never over the broker.

import type { ServerSideEmit, SocketDescription, SocketQuery } from "../manager.js";
import { ClusterQueryError } from "../../socket/errors.js";
import type { ClusterNode } from "./node.js";
import type { ClusterMessage } from "./envelope.js";

export interface ClusterQueryOptions {
  /** Default timeout of a query, ms (default 5000, socket.io's requestsTimeout). */
  queryTimeout?: number;
  /** How often this server announces itself, ms (default 5000). */
  heartbeatInterval?: number;
  /** A server not heard from for this long is taken as gone, ms (default 10000; more than heartbeatInterval). */
  heartbeatTimeout?: number;
}

/** This server's own answers, and where a server-side event is handled. */
export interface LocalAnswers {
  sockets(query: SocketQuery): SocketDescription[];
  rooms(namespace: string): string[];
  /** Runs the local handler; resolves with its reply, rejects when it throws. */
  serverSideEvent(namespace: string, event: string, args: unknown[], from: string): Promise<unknown>;
  logError(message: string, fields: Record<string, unknown>): void;
}

type QueryMessage = Extract<ClusterMessage, { type: "heartbeat" | "leave" | "fetch_sockets" | "all_rooms" | "server_emit" | "response" }>;
const QUERY_TYPES: ReadonlySet<string> = new Set(["heartbeat", "leave", "fetch_sockets", "all_rooms", "server_emit", "response"]);

/** A query waiting for answers: `accept` merges one (false: malformed, not counted). */
interface Pending {
  waiting: Set<string>;
  expected: number;
  accept(answer: unknown): boolean;
  /** The merged answer so far (this server's own included). */
  partial(): unknown;
  finish(error: ClusterQueryError | null): void;
  timer: ReturnType<typeof setTimeout>;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function isSocketList(v: unknown): v is SocketDescription[] {
  return (
    Array.isArray(v) &&
    v.every((s: unknown) => {
      if (typeof s !== "object" || s === null) return false;
      const d = s as Record<string, unknown>;
      return isString(d.sid) && isString(d.namespace) && isStringList(d.rooms) && isString(d.server);
    })
  );
}

export class ClusterQueryEngine {
  readonly queryTimeout: number;
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
  /** Host id → when it was last heard from (ms, monotonic). */
  private readonly peers = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private nextRequest = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private readonly node: ClusterNode,
    private readonly local: LocalAnswers,
    options: ClusterQueryOptions = {},
  ) {
    this.queryTimeout = positive("queryTimeout", options.queryTimeout ?? 5000);
    this.heartbeatInterval = positive("heartbeatInterval", options.heartbeatInterval ?? 5000);
    this.heartbeatTimeout = positive("heartbeatTimeout", options.heartbeatTimeout ?? 10_000);
    if (this.heartbeatTimeout <= this.heartbeatInterval) {
      throw new RangeError(`heartbeatTimeout (${this.heartbeatTimeout}) must be more than heartbeatInterval (${this.heartbeatInterval})`);
    }
    node.on("reconnect", () => this.announce());
  }

  /** Starts announcing this server (call once the broker connection is up). */
  start(): void {
    if (this.stopped || this.ticker !== null) return;
    this.announce();
    this.ticker = setInterval(() => {
      this.expire();
      this.announce();
    }, this.heartbeatInterval);
    this.ticker.unref?.();
  }

  /** Says goodbye (best effort) and fails every query still waiting. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    if (this.node.connected) await this.node.send({ type: "leave", host: this.node.hostId });
    for (const pending of [...this.pending.values()]) pending.finish(this.incomplete(pending, "the server closed before every server answered"));
  }

  /** The servers known alive, this one included. */
  serverCount(): number {
    this.expire();
    return this.peers.size + 1;
  }

  /** Host ids of the other servers known alive. */
  peerIds(): string[] {
    this.expire();
    return [...this.peers.keys()];
  }

  /** Handles a membership or query message; false when the message is none of those. */
  receive(message: ClusterMessage): boolean {
    if (!QUERY_TYPES.has(message.type)) return false;
    const m = message as QueryMessage;
    if (m.type === "leave") {
      this.peers.delete(m.host);
      return true;
    }
    const known = this.peers.has(m.host);
    this.peers.set(m.host, performance.now());
    switch (m.type) {
      case "heartbeat":
        // A newcomer: tell it about us now rather than at our next tick.
        if (!known) this.announce();
        return true;
      case "fetch_sockets":
        this.respond(m.host, m.request, this.local.sockets({ namespace: m.namespace, rooms: m.rooms, except: m.except, data: m.data }));
        return true;
      case "all_rooms":
        this.respond(m.host, m.request, this.local.rooms(m.namespace));
        return true;
      case "server_emit":
        this.runServerSideEvent(m);
        return true;
      case "response":
        if (m.to === this.node.hostId) this.onResponse(m.host, m.request, m.args[0]);
        return true;
    }
  }

  fetchSockets(query: SocketQuery, timeout?: number): Promise<SocketDescription[]> {
    const out = this.local.sockets(query);
    return this.ask(
      (request) => ({ type: "fetch_sockets", host: this.node.hostId, request, namespace: query.namespace, rooms: query.rooms === null ? null : [...query.rooms], except: [...query.except], data: query.data !== false }),
      (answer) => {
        if (!isSocketList(answer)) return false;
        // `data: undefined` does not survive JSON: put it back.
        for (const s of answer) out.push({ sid: s.sid, namespace: s.namespace, rooms: s.rooms, data: s.data, server: s.server });
        return true;
      },
      () => out,
      timeout,
    );
  }

  allRooms(namespace: string, timeout?: number): Promise<string[]> {
    const out = new Set(this.local.rooms(namespace));
    return this.ask(
      (request) => ({ type: "all_rooms", host: this.node.hostId, request, namespace }),
      (answer) => {
        if (!isStringList(answer)) return false;
        for (const room of answer) out.add(room);
        return true;
      },
      () => [...out],
      timeout,
    );
  }

  async serverSideEmit(emit: ServerSideEmit, timeout?: number): Promise<unknown[]> {
    if (!emit.ack) {
      const error = await this.node.send({ type: "server_emit", host: this.node.hostId, namespace: emit.namespace, event: emit.event, args: emit.args });
      if (error !== null) {
        this.node.report({ stage: "publish", error });
        throw new ClusterQueryError(`server-side event ${JSON.stringify(emit.event)} not published: ${error.message}`, this.peers.size, 0, [], { cause: error });
      }
      return [];
    }
    const replies: unknown[] = [];
    return this.ask(
      (request) => ({ type: "server_emit", host: this.node.hostId, namespace: emit.namespace, event: emit.event, args: emit.args, request }),
      (answer) => {
        replies.push(answer);
        return true;
      },
      () => replies,
      timeout,
    );
  }

  /** Sends a request to every known server and collects their answers (see the header comment). */
  private ask<T>(build: (request: string) => ClusterMessage, accept: (answer: unknown) => boolean, result: () => T, timeout = this.queryTimeout): Promise<T> {
    const waiting = new Set(this.peerIds());
    const expected = waiting.size;
    if (this.stopped) return Promise.reject(new ClusterQueryError("the cluster manager is closed", expected, 0, result()));
    if (!this.node.connected) {
      return Promise.reject(new ClusterQueryError("not connected to the broker: the other servers cannot be asked", expected, 0, result()));
    }
    if (expected === 0) return Promise.resolve(result());
    positive("timeout", timeout);
    const request = String(this.nextRequest++);
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        waiting,
        expected,
        accept,
        partial: result,
        timer: setTimeout(() => pending.finish(this.incomplete(pending, `no answer within ${timeout} ms`)), timeout),
        finish: (error) => {
          if (!this.pending.delete(request)) return;
          clearTimeout(pending.timer);
          if (error === null) resolve(result());
          else reject(error);
        },
      };
      this.pending.set(request, pending);
      void this.node.send(build(request)).then((error) => {
        if (error === null) return;
        this.node.report({ stage: "publish", error });
        pending.finish(this.incomplete(pending, `the request could not be published: ${error.message}`, error));
      });
    });
  }

  private incomplete(pending: Pending, why: string, cause?: Error): ClusterQueryError {
    const answered = pending.expected - pending.waiting.size;
    const partial = pending.partial();
    const missing = [...pending.waiting].join(", ");
    return new ClusterQueryError(
      `cluster query incomplete: ${answered} of ${pending.expected} servers answered (${why}; missing: ${missing})`,
      pending.expected,
      answered,
      partial,
      cause === undefined ? undefined : { cause },
    );
  }

  private onResponse(from: string, request: string, answer: unknown): void {
    const pending = this.pending.get(request);
    if (pending === undefined) return; // settled already: a late answer is dropped
    if (!pending.accept(answer)) {
      this.node.report({ stage: "receive", error: new Error(`dropped a malformed answer from server ${from} to query ${request}`) });
      return;
    }
    pending.waiting.delete(from);
    if (pending.waiting.size === 0) pending.finish(null);
  }

  private respond(to: string, request: string, answer: unknown): void {
    // undefined would reach JSON as null: no argument at all reads back as undefined.
    const args = answer === undefined ? [] : [answer];
    void this.node.send({ type: "response", host: this.node.hostId, to, request, args }).then((error) => {
      if (error !== null) this.node.report({ stage: "publish", error });
    });
  }

  private runServerSideEvent(m: Extract<ClusterMessage, { type: "server_emit" }>): void {
    let reply: Promise<unknown>;
    try {
      reply = this.local.serverSideEvent(m.namespace, m.event, m.args, m.host);
    } catch (err) {
      reply = Promise.reject(err);
    }
    reply.then(
      (value) => {
        if (m.request !== undefined) this.respond(m.host, m.request, value);
      },
      // No reply: the sender's query reports this server as not answering.
      (err: unknown) => this.local.logError("server-side event handler failed; no reply sent", { event: m.event, namespace: m.namespace, from: m.host, err }),
    );
  }

  private announce(): void {
    if (this.stopped || !this.node.connected) return;
    void this.node.send({ type: "heartbeat", host: this.node.hostId }).then((error) => {
      if (error !== null) this.node.report({ stage: "publish", error });
    });
  }

  private expire(): void {
    const limit = performance.now() - this.heartbeatTimeout;
    for (const [host, seen] of this.peers) if (seen < limit) this.peers.delete(host);
  }
}
