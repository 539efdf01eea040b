// Types shared by the framework integrations.

import type { NodeHttpServer } from "../runtime/node.js";
import type { EngineServer } from "../engine/server.js";
import type { FetchHandler, FetchHandlerOptions } from "../runtime/fetch.js";

/**
 * What the integrations need from a sockjet Server. Structural, so that a `Server<Listen, Emit>`
 * with any typed events fits.
 */
export interface SockjetServer {
  readonly engine: EngineServer;
  attach(server: NodeHttpServer): unknown;
  fetchHandler(options?: FetchHandlerOptions): FetchHandler;
  close(): Promise<void>;
}
