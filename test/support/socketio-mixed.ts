// A mixed cluster for the socket.io compatibility tests: one sockjet server with the
// SocketIORedisManager and one socket.io server (the devDependency) with @socket.io/redis-adapter
// on ioredis, sharing Redis under a key of their own; official socket.io-client v4 clients on
// each, recorded (test/support/cluster-harness.ts's Recorder).

import type { AddressInfo } from "node:net";
import { createServer, type Server as HttpServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import notepack from "notepack.io";
import { Server as IOServer } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";
import { SocketIORedisManager, type SubscriptionMode } from "../../src/manager/pubsub/redis.js";
import type { ClusterErrorEvent } from "../../src/manager/pubsub/index.js";
import { Recorder, eventually } from "./cluster-harness.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface MixedCluster {
  key: string;
  sockjet: Server;
  manager: SocketIORedisManager;
  sockjetUrl: string;
  io: IOServer;
  ioUrl: string;
  errors: ClusterErrorEvent[];
  /** A recorded client of the sockjet server ("sj") or the socket.io server ("io"). */
  connect(side: "sj" | "io", namespace?: string): Promise<Recorder>;
  /**
   * Each server emits a marker to every client of the namespace; resolves when every connected
   * client has both. What either server published before has arrived by then (FIFO per publisher).
   */
  flush(namespace?: string): Promise<void>;
  close(): Promise<void>;
}

let markers = 0;

export interface MixedOptions {
  sharded: boolean;
  /** Sharded only, on both sides (default "dynamic"). */
  subscriptionMode?: SubscriptionMode;
  /** Classic only, on both sides: publishOnSpecificResponseChannel. */
  specificResponseChannel?: boolean;
  namespaces?: string[];
  /** Where the sockjet server finds Redis (a TcpProxy in front of it in the outage test). */
  sockjetRedisUrl?: string;
  /** More options of the sockjet server. */
  serverOptions?: ServerOptions;
  /** The ports of a Redis Cluster to use instead of REDIS_URL, on both sides. */
  redisCluster?: number[];
}

export async function startMixedCluster(options: MixedOptions): Promise<MixedCluster> {
  const { sharded, subscriptionMode = "dynamic", specificResponseChannel = false, namespaces = ["/", "/chat"], sockjetRedisUrl = REDIS_URL, redisCluster } = options;
  const clusterNodes = redisCluster?.map((port) => ({ host: "127.0.0.1", port }));
  const key = `sio-compat-${randomUUID()}`;
  const errors: ClusterErrorEvent[] = [];
  const manager = new SocketIORedisManager({
    url: sockjetRedisUrl,
    ...(clusterNodes !== undefined ? { cluster: { nodes: clusterNodes } } : {}),
    key,
    sharded,
    subscriptionMode,
    publishOnSpecificResponseChannel: specificResponseChannel,
    namespaces,
    reconnect: { minDelay: 50, maxDelay: 500 },
    logger: false,
    onError: (e) => errors.push(e),
  });
  const sockjet = new Server({ ...options.serverOptions, clientManager: manager, namespaces });
  const sjHttp = await sockjet.listen(0, "127.0.0.1");
  await manager.ready;

  const pub: Redis | Cluster = clusterNodes !== undefined ? new Cluster(clusterNodes) : new Redis(REDIS_URL);
  const sub: Redis | Cluster = clusterNodes !== undefined ? new Cluster(clusterNodes, { shardedSubscribers: sharded }) : new Redis(REDIS_URL);
  /** Subscribers of a channel, every node of a Redis Cluster added up (as socket.io counts). */
  const subscribers = async (command: string, channel: string): Promise<number> => {
    const nodes = pub instanceof Cluster ? pub.nodes("all") : [pub];
    const replies = await Promise.all(nodes.map((node) => node.call("PUBSUB", command, channel) as Promise<unknown[]>));
    return replies.reduce<number>((sum, reply) => sum + Number(reply[1]), 0);
  };
  const http: HttpServer = createServer();
  const ioServer = new IOServer(http);
  ioServer.adapter(sharded ? createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode }) : createAdapter(pub, sub, { key, publishOnSpecificResponseChannel: specificResponseChannel }));
  for (const nsp of namespaces) ioServer.of(nsp);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

  // Both servers subscribed on every namespace: Redis counts two subscribers of the channel socket.io counts servers by.
  const count = sharded ? "SHARDNUMSUB" : "NUMSUB";
  for (const nsp of namespaces) {
    const channel = sharded ? `${key}#${nsp}#` : `${key}-request#${nsp}#`;
    let n = 0;
    await eventually(() => {
      void subscribers(count, channel).then((r) => (n = r));
      return n === 2;
    }, `two subscribers of ${channel}`);
  }
  // The classic adapter's pattern subscription has no count to wait for: a broadcast must come
  // back. The probe is a valid broadcast to a room nobody is in, of a namespace nobody serves.
  if (!sharded) {
    let seen = false;
    const channel = `${key}#/#__probe#`;
    const probe = (_p: Buffer, ch: Buffer) => void (ch.toString() === channel && (seen = true));
    sub.on("pmessageBuffer", probe);
    const message = notepack.encode(["probe", { type: 2, data: ["probe"], nsp: "/__probe" }, { rooms: ["__probe"], except: [] }]);
    await eventually(() => {
      void pub.publish(channel, message);
      return seen;
    }, "the adapter's pattern subscription");
    sub.off("pmessageBuffer", probe);
  }

  const clients: Array<{ recorder: Recorder; namespace: string }> = [];
  const sockjetUrl = `http://127.0.0.1:${(sjHttp.address() as AddressInfo).port}`;
  const ioUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    key,
    sockjet,
    manager,
    sockjetUrl,
    io: ioServer,
    ioUrl,
    errors,
    async connect(side, namespace = "/") {
      const socket: ClientSocket = io((side === "sj" ? sockjetUrl : ioUrl) + namespace, { forceNew: true, reconnection: false, transports: ["websocket"] });
      const recorder = new Recorder(socket);
      socket.on("double", (x: number, ack: (v: number) => void) => ack(x * 2));
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      clients.push({ recorder, namespace });
      return recorder;
    },
    async flush(namespace = "/") {
      const id = `m${markers++}`;
      await sockjet.emit("__marker", `${id}:sj`, { namespace });
      ioServer.of(namespace).emit("__marker", `${id}:io`);
      const targets = clients.filter((c) => c.namespace === namespace && c.recorder.socket.connected).map((c) => c.recorder);
      await Promise.all(targets.map((c) => c.when(() => c.all("__marker").filter((a) => String(a[0]).startsWith(`${id}:`)).length === 2)));
    },
    async close() {
      for (const c of clients) c.recorder.socket.disconnect();
      await sockjet.close();
      await new Promise<void>((resolve) => ioServer.close(() => resolve()));
      // QUIT, not disconnect: the adapter's close sent (P|S)UNSUBSCRIBEs it does not wait for;
      // QUIT is answered after them, where a disconnect would reject them ("Connection is closed").
      await Promise.all([pub.quit().catch(() => {}), sub.quit().catch(() => {})]);
    },
  };
}
