// What the owner and front halves of the no-sticky layer share (implemented by NoStickySessions).

import type { EngineServer } from "../../engine/server.js";
import type { Logger } from "../../util/logger.js";
import type { PeerLinks } from "./peers.js";
import type { WireMessage } from "./wire.js";

/** A message without its sender: the layer fills in `f` (this server's node id). */
export type Outgoing = WireMessage extends infer M ? (M extends WireMessage ? Omit<M, "f"> : never) : never;

export interface Layer {
  readonly nodeId: string;
  readonly engine: EngineServer;
  readonly links: PeerLinks;
  readonly logger: Logger;
  readonly requestTimeout: number;
  /** Publishes on `to`'s channel; resolves with the error when the broker did not take it. */
  send(to: string, message: Outgoing, body?: Uint8Array | string | readonly (Uint8Array | string)[]): Promise<Error | null>;
}
