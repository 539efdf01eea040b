// The few pieces of Engine.IO v4 / Socket.IO v5 the load generator needs, shared by its WebSocket
// and long-polling clients. Server → client packets are classified from their first bytes without
// decoding the whole text, so that counting a delivery costs the load generator as little as
// possible; in verify mode (tests, smoke runs) broadcast contents are parsed and checked.

export const ENGINE_PATH = "/socket.io/";

/** Counts deliveries across all clients and fires once a target is reached. */
export class DeliverySink {
  total = 0;
  target = Infinity;
  private waiter: (() => void) | null = null;

  /** Resets the count and returns a promise settled when `target` deliveries have arrived. */
  expect(target: number): Promise<void> {
    this.total = 0;
    this.target = target;
    return new Promise((resolve) => {
      this.waiter = resolve;
      if (target <= 0) this.reached();
    });
  }

  add(): void {
    if (++this.total >= this.target) this.reached();
  }

  private reached(): void {
    const waiter = this.waiter;
    this.waiter = null;
    this.target = Infinity;
    waiter?.();
  }
}

export interface ClientOptions {
  sink: DeliverySink;
  /** Parse and check every broadcast (`msg(i, payload)` with i counting from 0 per broadcast). */
  verify: boolean;
  /** Source address for the TCP connection(s), to spread ephemeral ports over 127.0.0.x. */
  localAddress?: string | undefined;
}

/** State and checks common to both client kinds. */
export abstract class ProtocolClient {
  /** Socket.IO sid in namespace "/" once connected. */
  sid: string | null = null;
  engineSid: string | null = null;
  pingInterval = 0;
  /** Broadcast messages received since the last `resetSequence`. */
  received = 0;
  readonly errors: string[] = [];
  closed = false;
  protected nextAckId = 0;
  protected readonly acks = new Map<number, (body: string) => void>();
  private expectedSize = -1;

  constructor(protected readonly options: ClientOptions) {}

  /** Next broadcast restarts at index 0, with payloads of `size` characters. */
  resetSequence(size: number): void {
    this.received = 0;
    this.expectedSize = size;
  }

  /** Sends an event with an ack id; resolves with the ack's JSON argument array text. */
  emitWithAck(event: string, values: readonly unknown[]): Promise<string> {
    const id = this.nextAckId++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("client closed"));
      this.acks.set(id, resolve);
      this.sendText(`42${id}${JSON.stringify([event, ...values])}`);
    });
  }

  protected abstract sendText(text: string): void;

  /** Leaves (closing handshake where the transport has one). */
  abstract close(): void;

  abstract get isOpen(): boolean;

  /** A Socket.IO EVENT from the server, a broadcast delivery: its packet text `2[...]` in verify mode, else null. */
  protected onEvent(text: string | null): void {
    if (this.options.verify && text !== null) this.check(text);
    this.received++;
    this.options.sink.add();
  }

  /** A Socket.IO ACK packet text `3<id>[...]` (without the Engine.IO type). */
  protected onAckText(text: string): void {
    let i = 1;
    let id = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      id = id * 10 + (c - 48);
      i++;
    }
    const resolve = this.acks.get(id);
    if (resolve === undefined) {
      this.errors.push(`ack for unknown id ${id}`);
      return;
    }
    this.acks.delete(id);
    resolve(text.slice(i));
  }

  protected failPending(reason: string): void {
    this.closed = true;
    for (const resolve of this.acks.values()) resolve(`{"error":${JSON.stringify(reason)}}`);
    this.acks.clear();
  }

  private check(text: string): void {
    let packet: unknown;
    try {
      packet = JSON.parse(text.slice(1));
    } catch {
      this.errors.push(`undecodable event ${text.slice(0, 40)}`);
      return;
    }
    if (!Array.isArray(packet) || packet[0] !== "msg") {
      this.errors.push(`unexpected event ${text.slice(0, 40)}`);
      return;
    }
    const [, index, payload] = packet as [string, unknown, unknown];
    if (index !== this.received) this.errors.push(`msg ${String(index)} arrived when ${this.received} was expected`);
    if (typeof payload !== "string" || (this.expectedSize >= 0 && payload.length !== this.expectedSize)) {
      this.errors.push(`msg ${String(index)} has a payload of the wrong size`);
    }
  }
}

/** Runs `fn(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inPool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
