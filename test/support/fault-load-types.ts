// What the load processes of the broker-fault runs (test/cluster/fixtures/load-*.ts) record and
// hand back to the parent (test/support/fault-load.ts). Times are Date.now() on one machine.

/** One `call()` and how it ended. */
export interface LoadCall {
  seq: number;
  to: string;
  at: number;
  doneAt: number;
  /** ok: the right reply; timeout: ACK_TIMEOUT; rejected: another error (the broker's). */
  outcome: "pending" | "ok" | "wrong" | "timeout" | "rejected";
  error?: string;
}

export interface LoadLog {
  /** Every numbered message this process emitted to the room. */
  sent: Array<{ seq: number; at: number }>;
  /** Messages reported lost: the manager's "error" event (stage "publish"), or the emitter's rejection. */
  lost: Array<{ seq: number; at: number; error: string }>;
  /** Every other failure report (lost acknowledgements, connection errors). */
  otherErrors: Array<{ at: number; stage: string; operation: string | null; error: string }>;
  calls: LoadCall[];
  /** Resident memory in bytes, at start and the highest sampled (every 500 ms). */
  rss: { start: number; max: number };
  /** The most calls pending at once. */
  pendingCallsMax: number;
}
