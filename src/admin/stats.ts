// The figures of the Admin UI's `server_stats`: counts per second (connections, disconnections,
// packets and bytes in and out) gathered between two reports, as @socket.io/admin-ui's EventBuffer
// and python-socketio's do. The UI adds them up per ten seconds for its charts.

import { Buffer } from "node:buffer";
import type { OutPacket } from "../engine/out-packet.js";
import type { TrafficMeter } from "../engine/session-host.js";

export type AggregatedEventType = "rawConnection" | "rawDisconnection" | "packetsIn" | "packetsOut" | "bytesIn" | "bytesOut";

export interface AggregatedEvent {
  /** The second it happened in, ms since the epoch. */
  timestamp: number;
  type: AggregatedEventType;
  /** rawDisconnection: the reason. */
  subType?: string;
  count: number;
}

/** Counts by second and type; emptied by each report, so it holds at most one interval's seconds. */
export class EventBuffer implements TrafficMeter {
  private readonly buffer = new Map<string, AggregatedEvent>();

  push(type: AggregatedEventType, count = 1, subType?: string): void {
    const now = Date.now();
    const timestamp = now - (now % 1000);
    const key = subType === undefined ? `${timestamp};${type}` : `${timestamp};${type};${subType}`;
    const entry = this.buffer.get(key);
    if (entry !== undefined) entry.count += count;
    else this.buffer.set(key, subType === undefined ? { timestamp, type, count } : { timestamp, type, subType, count });
  }

  /** A message received by the engine. */
  received(data: string | Uint8Array): void {
    this.push("packetsIn");
    this.push("bytesIn", byteLength(data));
  }

  /** Packets written by a session (EngineServer.meter): those that carry data, as socket.io counts them. */
  sent(packets: readonly OutPacket[]): void {
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < packets.length; i++) {
      const data = packets[i]!.data;
      if (data === undefined) continue;
      count++;
      bytes += byteLength(data);
    }
    if (count > 0) {
      this.push("packetsOut", count);
      this.push("bytesOut", bytes);
    }
  }

  takeAll(): AggregatedEvent[] {
    const values = [...this.buffer.values()];
    this.buffer.clear();
    return values;
  }
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
}
