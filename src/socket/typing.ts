// Type helpers for typed events. Kept apart so the server's code reads without them.

import type { EventData, EventsMap } from "./types.js";

export type EventNames<M extends EventsMap> = keyof M & string;

/**
 * The parameters after the event name in `emit`: data is required when the event's typed
 * arguments require it, optional when the event takes none or the map is untyped.
 */
export type EmitRest<A extends readonly unknown[], O> = number extends A["length"]
  ? [data?: unknown, options?: O]
  : A extends readonly []
    ? [data?: undefined, options?: O]
    : [data: EventData<A>, options?: O];

/** How handlers are stored once registered (their typed signatures are checked at `on`). */
export type StoredHandler = (...args: unknown[]) => unknown;
