/** A broker connection as the cluster manager needs it: publish bytes on a channel, receive every message on it. */
export interface PubSubDriver {
  /** Connects and subscribes. Messages published by this process come back too; the manager drops its own by host id. */
  start(channel: string, onMessage: (payload: Uint8Array) => void, events: DriverEvents): Promise<void>;
  /** Rejects (does not hang) when the message cannot be handed to the broker. */
  publish(channel: string, payload: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
/**
 * How a driver reports its state. The implementer (PubSubManager) guarantees that none of these
 * throws into the driver: it catches its listeners' errors, so drivers call them directly.
 */
export interface DriverEvents {
  /** A failure the driver recovered from or is retrying; stage says where. */
  onError(error: Error, stage: "connect" | "publish" | "subscribe" | "receive"): void;
  /** Lost the broker connection (publishing fails until onReconnect). */
  onDisconnect(): void;
  /** Connected and subscribed again after a loss. */
  onReconnect(): void;
}
