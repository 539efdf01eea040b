// What the soak's server process and its driver share: the namespaces, the heartbeat, and the shape
// of a stats answer (see bench/soak/server.ts).

/** The namespaces with handlers; clients join "/" and sometimes "/chat" on the same connection. */
export const SOAK_NAMESPACES = ["/", "/chat"] as const;

/**
 * A ping every 5 s instead of 25 s, so that pings cross every connection that lives longer than
 * that; the default 20 s to answer, since the machine is shared and a 5 s timeout was missed by
 * polling clients of a starved load generator (load average 19 on 2 cores) in the first full run.
 */
export const SOAK_PING_INTERVAL = 5_000;
export const SOAK_PING_TIMEOUT = 20_000;

export interface Stats {
  runtime: "node" | "bun" | "deno";
  /** Whether a forced collection ran before the figures were read. */
  gc: boolean;
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Entries of /proc/self/fd (including the directory handle that reads it). */
  fds: number;
  /** Entries in the engine's shared timer queue (heartbeats, connect, upgrade and ack timeouts). */
  timers: number;
  /** Engine.IO sessions the server still holds. */
  sessions: number;
  /** Namespaces with members in the client manager. */
  namespaces: number;
  /** Node's process.getActiveResourcesInfo() by kind (Timeout, TCPWRAP...); null elsewhere. */
  activeResources: Record<string, number> | null;
  unhandledRejection: number;
  uncaughtException: number;
  failureMessages: string[];
  /** Warn and error lines the server logged, by message. */
  logged: Record<string, number>;
  /** The reasons the server's `disconnect` handlers received, by reason. */
  disconnectReasons: Record<string, number>;
  /** Outcomes of the server's `call()`s to clients. */
  calls: { answered: number; timedOut: number; otherErrors: number };
}
