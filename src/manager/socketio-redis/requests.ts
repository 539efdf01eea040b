// Requests this server sends and the answers it waits for, by request id. The classic format's
// responses all share one channel (every server of the namespace reads every answer), so ids are
// random, never a counter that another server could be using at the same time.

import type { AdapterResponse } from "./messages.js";

export function randomRequestId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface Pending {
  kind: AdapterResponse["kind"];
  onResponse(response: AdapterResponse): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  private readonly pending = new Map<string, Pending>();

  /** What a response with this id answers (undefined: not one of ours, or expired). */
  kindOf(requestId: string): AdapterResponse["kind"] | undefined {
    return this.pending.get(requestId)?.kind;
  }

  /** Routes responses of `kind` with this id to `onResponse` until `drop` or the timeout, then calls `onTimeout`. */
  add(requestId: string, kind: AdapterResponse["kind"], timeout: number, onResponse: (response: AdapterResponse) => void, onTimeout: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(requestId);
      onTimeout();
    }, timeout);
    timer.unref?.();
    this.pending.set(requestId, { kind, onResponse, timer });
  }

  drop(requestId: string): void {
    const entry = this.pending.get(requestId);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(requestId);
  }

  deliver(response: AdapterResponse): void {
    this.pending.get(response.requestId)?.onResponse(response);
  }

  clear(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }
}

/**
 * Sends a request that every other server answers once and gathers the answers: resolves with
 * them when `expected` arrived, rejects through `onIncomplete` with those that did at the timeout.
 */
export function gather<T>(
  requests: PendingRequests,
  kind: AdapterResponse["kind"],
  expected: number,
  timeout: number,
  read: (response: AdapterResponse) => T | undefined,
  send: (requestId: string) => Promise<Error | null>,
): Promise<{ complete: boolean; answers: T[]; error?: Error }> {
  const requestId = randomRequestId();
  const answers: T[] = [];
  return new Promise((resolve) => {
    requests.add(
      requestId,
      kind,
      timeout,
      (response) => {
        const value = read(response);
        if (value === undefined) return;
        answers.push(value);
        if (answers.length >= expected) {
          requests.drop(requestId);
          resolve({ complete: true, answers });
        }
      },
      () => resolve({ complete: false, answers }),
    );
    void send(requestId).then((error) => {
      if (error === null) return;
      requests.drop(requestId);
      resolve({ complete: false, answers, error });
    });
  });
}
