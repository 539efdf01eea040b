// The sizes and timings of the scale sessions (`npm run bench -- --scale`): the full run measures up
// to 15,000 clients (the machine's file-descriptor limit is 20,000 per process); quick mode and
// `--scale-sizes` shrink them for a smoke check.

export interface ScaleParams {
  /** Client counts at which memory is read (WebSocket clients and polling sessions), ascending. */
  sizes: number[];
  /** Room sizes of the room broadcasts, ascending; the rooms session connects the largest. */
  roomSizes: number[];
  /** The many-small-rooms figure: this many rooms of `tinyRoomSize` members, each sent one message. */
  tinyRooms: number;
  tinyRoomSize: number;
  /** Rounds of "every small room gets a message" inside the measured window. */
  tinyRounds: number;
  /** Deliveries aimed at per room size (broadcasts = ceil(this / size), at least `minBroadcasts`). */
  roomDeliveries: number;
  minBroadcasts: number;
  /** Payload characters of a broadcast message. */
  size: number;
  /** Connections opened while the largest size is connected, for the connect rate at scale. */
  connectBatch: number;
  /** Handshakes in flight at once (every connect phase). */
  concurrency: number;
  /** Connections opened and closed before the baseline (code paths compiled once). */
  warmupClients: number;
  /** Idle time before each memory reading (polling: past Node's 5 s keep-alive timeout). */
  settleMs: number;
  pollingSettleMs: number;
  gcWaitMs: number;
  /** The idle CPU window, in ping intervals (3 × 25 s = 75 s: every client pinged exactly 3 times). */
  idleIntervals: number;
  /**
   * Ping intervals left idle before the window opens: the one-time work after the growth (V8's
   * memory-reducer collections, code tiering) is over by then, so the window is the steady state
   * that 15k idle clients cost for as long as they stay.
   */
  idleSettleIntervals: number;
  /** Most milliseconds one phase may take. */
  timeoutMs: number;
}

export const FULL_SCALE: ScaleParams = {
  sizes: [1000, 5000, 15_000],
  roomSizes: [100, 1000, 10_000, 15_000],
  tinyRooms: 10_000,
  tinyRoomSize: 10,
  tinyRounds: 5,
  roomDeliveries: 100_000,
  minBroadcasts: 10,
  size: 100,
  connectBatch: 2000,
  concurrency: 50,
  warmupClients: 100,
  settleMs: 3000,
  pollingSettleMs: 6000,
  gcWaitMs: 1000,
  idleIntervals: 3,
  idleSettleIntervals: 1,
  timeoutMs: 300_000,
};

/** Small and short: checks that everything runs (its CPU figures are 10 ms ticks over short windows). */
export const QUICK_SCALE: ScaleParams = {
  sizes: [100, 300, 600],
  roomSizes: [10, 100, 300, 600],
  tinyRooms: 100,
  tinyRoomSize: 10,
  tinyRounds: 2,
  roomDeliveries: 3000,
  minBroadcasts: 5,
  size: 100,
  connectBatch: 100,
  concurrency: 50,
  warmupClients: 20,
  settleMs: 500,
  pollingSettleMs: 1000,
  gcWaitMs: 300,
  idleIntervals: 2,
  idleSettleIntervals: 1,
  timeoutMs: 60_000,
};

/** The heartbeat a quick run's servers use (BENCH_PING_INTERVAL), so that its idle window is short (at 1-2 s, socket.io on Bun hangs up long-polling GETs). */
export const QUICK_PING_INTERVAL_MS = 3000;

/** The rooms client `i` of `clients` joins: every size room it falls in, and its share of the small rooms. */
export function roomsOfClient(i: number, clients: number, p: Pick<ScaleParams, "roomSizes" | "tinyRooms" | "tinyRoomSize">): string[] {
  const rooms: string[] = [];
  for (const size of p.roomSizes) if (i < size) rooms.push(`s${size}`);
  // Membership q (of tinyRooms × tinyRoomSize) belongs to room floor(q / tinyRoomSize) and to client
  // q mod clients: each small room has tinyRoomSize distinct members while tinyRoomSize <= clients.
  for (let q = i; q < p.tinyRooms * p.tinyRoomSize; q += clients) rooms.push(`t${Math.floor(q / p.tinyRoomSize)}`);
  return rooms;
}
