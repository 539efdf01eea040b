// The "error", "disconnect" and "reconnect" events of a cluster manager and the way a failure is
// reported: shared by every manager that talks to a broker (the generic pub/sub node, ./node.ts,
// and the socket.io-compatible Redis manager, ../socketio-redis/manager.ts), so that a lost
// operation is logged, handed to `onError` and to the listeners in the same way everywhere, and
// never silent. What a report says (its log lines, its fields) is each manager's own.

import type { Operation } from "../manager.js";
import type { Logger } from "../../util/logger.js";
import { silentLogger } from "../../util/logger.js";
import type { CallbackOperation, ClusterErrorEvent, ClusterEvents } from "./node.js";

type Listeners = { [K in keyof ClusterEvents]: Set<ClusterEvents[K]> };

export interface ClusterReportOptions {
  logger: () => Logger;
  onError?: ((event: ClusterErrorEvent) => void) | undefined;
  /** Fields that name the reporter in every log line (host id, channel...). */
  context: () => Record<string, unknown>;
  /** A loggable summary of an operation (no callbacks, no argument values). */
  describe: (operation: Operation | CallbackOperation) => unknown;
  /** Log lines: one for a lost operation (error level), one for every other failure (warning). */
  lostMessage: string;
  failureMessage: string;
}

export class ClusterReports {
  private readonly listeners: Listeners = { error: new Set(), disconnect: new Set(), reconnect: new Set() };

  constructor(private readonly options: ClusterReportOptions) {}

  on<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): void {
    (this.listeners[event] as Set<ClusterEvents[K]>).add(listener);
  }

  off<K extends keyof ClusterEvents>(event: K, listener: ClusterEvents[K]): void {
    (this.listeners[event] as Set<ClusterEvents[K]>).delete(listener);
  }

  /** Reports a failure: to the logger, to `onError`, and to "error" listeners. */
  report(event: ClusterErrorEvent): void {
    const { logger: getLogger, onError, context, describe } = this.options;
    const logger = getLogger();
    const operation = event.operation && describe(event.operation);
    const fields = { ...context(), stage: event.stage, err: event.error, operation };
    if (event.stage === "publish" && event.operation !== undefined) logger.error(this.options.lostMessage, fields);
    else logger.warn(this.options.failureMessage, fields);
    let handled = false;
    if (onError) {
      handled = true;
      try {
        onError(event);
      } catch (err) {
        logger.error("cluster onError handler failed", { err });
      }
    }
    for (const listener of this.listeners.error) {
      handled = true;
      try {
        listener(event);
      } catch (err) {
        logger.error("cluster error listener failed", { err });
      }
    }
    // Lost operations are never silent: with no listener and logging off, they still reach stderr.
    if (!handled && logger === silentLogger && event.operation !== undefined) {
      process.stderr.write(
        JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "sockjet: cluster operation lost", stage: event.stage, error: event.error.message, operation }) + "\n",
      );
    }
  }

  /** Calls the "disconnect" or "reconnect" listeners; one that throws is logged, the others still run. */
  emit(event: "disconnect" | "reconnect"): void {
    for (const listener of this.listeners[event]) {
      try {
        listener();
      } catch (err) {
        this.options.logger().error(`cluster ${event} listener failed`, { err });
      }
    }
  }
}
