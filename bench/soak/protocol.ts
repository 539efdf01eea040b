// What the soak's server process and its driver share: the namespaces, the heartbeat, and the shape
// of a stats answer (see bench/soak/server.ts).

/** The namespaces with handlers; clients join "/" and sometimes "/chat" on the same connection. */
export const SOAK_NAMESPACES = ["/", "/chat"] as const;

/**
 * A heartbeat shorter than the defaults (25 s + 20 s), so that clients the load drops without a
 * goodbye (a stalled poll) are reaped within the run, while pings still cross every connection
 * that lives longer than 5 s.
 */
export const SOAK_PING_INTERVAL = 5_000;
export const SOAK_PING_TIMEOUT = 5_000;

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
  /** Outcomes of the server's `call()`s to clients. */
  calls: { answered: number; timedOut: number; otherErrors: number };
}
