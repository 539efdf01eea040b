// The interface of the two wire formats (./classic.ts, ./sharded.ts): which channels a server
// listens on, where each message goes, and how bytes become messages. Decoding returns a result,
// never throws.

import type { AdapterRequest, AdapterResponse, Decoded } from "./messages.js";

export interface Outgoing {
  channel: string;
  payload: Buffer | string;
}

export type Incoming = { type: "request"; request: AdapterRequest } | { type: "response"; response: AdapterResponse } | { type: "ignore"; reason: string };

/** For a response that does not say what it answers (the classic format), the kind of request its id belongs to. */
export type ExpectedKind = (requestId: string) => AdapterResponse["kind"] | undefined;

export interface WireFormat {
  /** SPUBLISH/SSUBSCRIBE instead of PUBLISH/SUBSCRIBE. */
  readonly sharded: boolean;
  /** Plain (or sharded) channels this server subscribes to for a namespace. */
  namespaceChannels(nsp: string, uid: string): string[];
  /** Pattern subscriptions made once (classic only). */
  readonly patterns: string[];
  /** The channel whose subscriber count is the number of servers of a namespace (PUBSUB NUMSUB / SHARDNUMSUB). */
  serverCountChannel(nsp: string): string;
  /** The extra channel a server subscribes to while it has members of `room` (sharded dynamic modes), or null. */
  roomChannel(nsp: string, room: string, isSid: boolean): string | null;
  encodeRequest(request: AdapterRequest): Outgoing;
  /** An answer to `request`, from `uid`. */
  encodeResponse(request: { uid: string; nsp: string }, uid: string, response: AdapterResponse): Outgoing;
  decode(channel: string, payload: Buffer, expected: ExpectedKind): Decoded<Incoming>;
}
