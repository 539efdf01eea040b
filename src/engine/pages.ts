// Pages that a runtime adapter serves beside the engine's path, from memory: the Admin UI's built
// page when instrument() is asked to serve it. The engine only carries the source; each adapter
// (Node's request listener, the fetch handler) asks it about requests that are not the engine's.

/** A complete response. */
export interface StaticPage {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface PageSource {
  /** The response for a request outside the engine's path, or null when the path is not this source's. */
  page(method: string, path: string): StaticPage | null;
}
