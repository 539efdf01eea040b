// The Engine.IO session state machine and the shared timer queue, without ports and without real
// time: a manual Clock drives every deadline, flushes run when the test says so, and HTTP requests
// and WebSockets are fake objects implementing the engine's runtime interfaces.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EngineServer, type EngineServerOptions, type UpgradeDecision } from "../../src/engine/server.js";
import type { CloseReason, EngineSocket } from "../../src/engine/socket.js";
import { TimerEntry, TimerQueue, slackOf, type Clock, type TimerTarget } from "../../src/engine/timers.js";
import type { BodyResult, EngineRequest, HttpExchange, OutFrame, ResponseHeaders, WebSocketPeer } from "../../src/engine/http.js";
import type { WebSocketTransport } from "../../src/engine/transports/websocket.js";
import { decodePayload, PacketType } from "../../src/engine/protocol/packet.js";

// ---------------------------------------------------------------------------------------------
// fakes

/** A clock whose time only moves when the test advances it; timers run at their own instant. */
class ManualClock implements Clock {
  time = 0;
  private nextId = 1;
  readonly timers = new Map<number, { callback: () => void; at: number }>();
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { callback, at: this.time + ms });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward by `ms`, running every timer that comes due, earliest first, each at its instant. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (let guard = 0; ; guard++) {
      assert.ok(guard < 100_000, "timers keep re-arming in the past");
      let next: [number, { callback: () => void; at: number }] | null = null;
      for (const entry of this.timers) if (entry[1].at <= target && (next === null || entry[1].at < next[1].at)) next = entry;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
    }
    this.time = target;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fakeRequest(method: string, url: string, headers: Record<string, string> = {}): EngineRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    method,
    url,
    header: (name) => lower[name],
    headers: () => ({ ...lower }),
    remoteAddress: "127.0.0.1",
    secure: false,
    raw: null,
  };
}

interface Response {
  status: number;
  headers: ResponseHeaders;
  body: string | Uint8Array;
}

type BodySource = string | Uint8Array | BodyResult | Promise<BodyResult>;

class FakeExchange implements HttpExchange {
  readonly responses: Response[] = [];
  abortListener: (() => void) | null = null;
  limitSeen: number | null = null;
  constructor(
    readonly request: EngineRequest,
    private readonly body: BodySource = "",
  ) {}

  readBody(limit: number): Promise<BodyResult> {
    this.limitSeen = limit;
    const body = this.body;
    if (body instanceof Promise) return body;
    if (typeof body === "object" && !(body instanceof Uint8Array)) return Promise.resolve(body);
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    return Promise.resolve(bytes.byteLength > limit ? { ok: false, reason: "too-large" } : { ok: true, body: bytes });
  }
  respond(status: number, headers: ResponseHeaders, body: string | Uint8Array): void {
    this.responses.push({ status, headers, body });
  }
  onAbort(listener: () => void): void {
    assert.equal(this.abortListener, null, "onAbort registered twice");
    this.abortListener = listener;
  }

  get answered(): boolean {
    return this.responses.length > 0;
  }
  get response(): Response {
    assert.equal(this.responses.length, 1, `expected exactly one response, got ${this.responses.length}`);
    return this.responses[0]!;
  }
  get status(): number {
    return this.response.status;
  }
  get text(): string {
    const body = this.response.body;
    return typeof body === "string" ? body : decoder.decode(body);
  }
  get json(): unknown {
    return JSON.parse(this.text);
  }
  /** The client goes away (only meaningful while unanswered, as Node's adapter does). */
  abort(): void {
    if (!this.answered) this.abortListener?.();
  }
}

class FakePeer implements WebSocketPeer {
  readonly frames: Array<string | Uint8Array> = [];
  /** Number of sendFrames calls (each is one write). */
  writes = 0;
  closed: { code: number | undefined; reason: string | undefined } | null = null;
  bufferedAmount = 0;
  sendFrames(frames: readonly OutFrame[]): void {
    assert.equal(this.closed, null, "frames sent on a closed WebSocket");
    this.writes++;
    for (const f of frames) this.frames.push(f.frame);
  }
  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }
  /** Text frames only, for readable assertions. */
  get texts(): string[] {
    return this.frames.map((f) => (typeof f === "string" ? f : `<bin ${Array.from(f).join(",")}>`));
  }
}

const POLL = "/socket.io/?EIO=4&transport=polling";
const WS = "/socket.io/?EIO=4&transport=websocket";

/** One EngineServer on a manual clock, with every event recorded. */
class Rig {
  readonly clock = new ManualClock();
  readonly flushes: Array<() => void> = [];
  readonly engine: EngineServer;
  readonly messages: Array<[string, string | Uint8Array]> = [];
  readonly closes: Array<[string, CloseReason]> = [];
  readonly opened: EngineSocket[] = [];

  constructor(options: EngineServerOptions = {}) {
    this.engine = new EngineServer({
      pingInterval: 1000,
      pingTimeout: 500,
      upgradeTimeout: 300,
      ...options,
      clock: this.clock,
      scheduleFlush: (callback) => this.flushes.push(callback),
    });
    this.engine
      .on("connection", (socket) => this.opened.push(socket))
      .on("message", (socket, data) => this.messages.push([socket.id, data]))
      .on("close", (socket, reason) => this.closes.push([socket.id, reason]));
  }

  /** Runs the flushes the engine asked for (what setImmediate would do). */
  runFlushes(): void {
    for (let guard = 0; this.flushes.length > 0; guard++) {
      assert.ok(guard < 1000, "flushes keep scheduling flushes");
      this.flushes.shift()!();
    }
  }

  async request(method: string, url: string, body: BodySource = "", headers: Record<string, string> = {}): Promise<FakeExchange> {
    const exchange = new FakeExchange(fakeRequest(method, url, headers), body);
    await this.engine.handleRequest(exchange);
    return exchange;
  }

  async handshake(): Promise<{ sid: string; open: Record<string, unknown> }> {
    const exchange = await this.request("GET", POLL);
    assert.equal(exchange.status, 200);
    assert.equal(exchange.text[0], "0");
    const open = JSON.parse(exchange.text.slice(1)) as Record<string, unknown>;
    return { sid: open.sid as string, open };
  }

  get(sid: string): Promise<FakeExchange> {
    return this.request("GET", `${POLL}&sid=${sid}`);
  }

  post(sid: string, body: BodySource): Promise<FakeExchange> {
    return this.request("POST", `${POLL}&sid=${sid}`, body);
  }

  socket(sid: string): EngineSocket {
    const socket = this.engine.sessions.get(sid);
    assert.ok(socket, `no session ${sid}`);
    return socket;
  }

  /** Opens a WebSocket for a polling session (the probe), as an adapter would after the HTTP upgrade. */
  async probe(sid: string): Promise<{ peer: FakePeer; transport: WebSocketTransport }> {
    const decision = await this.engine.prepareUpgrade(fakeRequest("GET", `${WS}&sid=${sid}`));
    assert.equal(decision.ok, true, decision.ok ? "" : decision.body);
    const peer = new FakePeer();
    const transport = this.engine.acceptWebSocket(decision as Extract<UpgradeDecision, { ok: true }>, peer);
    return { peer, transport };
  }

  /** A session opened directly over WebSocket. */
  async openWebSocket(): Promise<{ sid: string; peer: FakePeer; transport: WebSocketTransport }> {
    const decision = await this.engine.prepareUpgrade(fakeRequest("GET", WS));
    assert.equal(decision.ok, true);
    const ok = decision as Extract<UpgradeDecision, { ok: true }>;
    assert.equal(ok.sid, null);
    const peer = new FakePeer();
    const transport = this.engine.acceptWebSocket(ok, peer);
    assert.equal(typeof peer.frames[0], "string");
    const open = JSON.parse((peer.frames[0] as string).slice(1)) as { sid: string };
    assert.equal(open.sid, ok.newSid);
    return { sid: open.sid, peer, transport };
  }
}

/** Message texts carried by a polling response (non-MESSAGE packets are shown as their type digit). */
function payloadPackets(text: string): string[] {
  const decoded = decodePayload(text);
  assert.ok(decoded.ok, `bad payload ${JSON.stringify(text)}`);
  return decoded.value.map((p) => (p.type === PacketType.MESSAGE ? `msg:${typeof p.data === "string" ? p.data : "<bin>"}` : String(p.type)));
}

function errorBody(code: number, message: string) {
  return { code, message };
}

// ---------------------------------------------------------------------------------------------
// TimerQueue

class Recorder implements TimerTarget {
  constructor(
    readonly name: string,
    readonly log: Array<[string, number, number]>,
    readonly clock: Clock,
    private readonly action?: (kind: number) => void,
  ) {}
  onTimer(kind: number): void {
    this.log.push([this.name, kind, this.clock.now()]);
    this.action?.(kind);
  }
}

describe("TimerQueue", () => {
  function setup() {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    const log: Array<[string, number, number]> = [];
    const entry = (name: string, kind = 0, action?: (kind: number) => void) => new TimerEntry(new Recorder(name, log, clock, action), kind);
    return { clock, queue, log, entry, names: () => log.map(([n]) => n) };
  }

  test("entries fire in deadline order across different delays", () => {
    const { clock, queue, entry, names } = setup();
    const a = entry("a300");
    const b = entry("b100");
    const c = entry("c200");
    const d = entry("d100");
    queue.schedule(a, 300);
    queue.schedule(b, 100);
    queue.schedule(c, 200);
    queue.schedule(d, 100);
    assert.equal(queue.pending, 4);
    clock.advance(99);
    assert.deepEqual(names(), []);
    clock.advance(1000);
    assert.deepEqual(names(), ["b100", "d100", "c200", "a300"]);
    assert.equal(queue.pending, 0);
  });

  test("same delay: first scheduled, first fired; later schedules fire later", () => {
    const { clock, queue, entry, names } = setup();
    const entries = ["e1", "e2", "e3"].map((n) => entry(n));
    for (const e of entries) {
      queue.schedule(e, 50);
      clock.advance(10);
    }
    clock.advance(1000);
    assert.deepEqual(names(), ["e1", "e2", "e3"]);
  });

  test("the kind is passed to the target; schedule may change it", () => {
    const { clock, queue, log, entry } = setup();
    const e = entry("e", 7);
    queue.schedule(e, 10);
    clock.advance(20);
    queue.schedule(e, 10, 3);
    clock.advance(20);
    assert.deepEqual(
      log.map(([n, k]) => [n, k]),
      [
        ["e", 7],
        ["e", 3],
      ],
    );
    assert.equal(e.kind, 3);
  });

  test("an entry never fires before its deadline", () => {
    const { clock, queue, log, entry } = setup();
    const entries = [entry("a"), entry("b"), entry("c")];
    queue.schedule(entries[0]!, 10);
    queue.schedule(entries[1]!, 25);
    clock.advance(5);
    queue.schedule(entries[2]!, 10);
    clock.advance(100);
    assert.deepEqual(
      log.map(([n, , t]) => [n, t >= { a: 10, b: 25, c: 15 }[n]!]),
      [
        ["a", true],
        ["c", true],
        ["b", true],
      ],
    );
  });

  test("cancel: a cancelled entry does not fire, others do; cancelling twice or unscheduled is harmless", () => {
    const { clock, queue, entry, names } = setup();
    const a = entry("a");
    const b = entry("b");
    const c = entry("c");
    queue.schedule(a, 100);
    queue.schedule(b, 100);
    queue.schedule(c, 200);
    queue.cancel(a);
    queue.cancel(a);
    queue.cancel(entry("never scheduled"));
    assert.equal(a.scheduled, false);
    assert.equal(queue.pending, 2);
    clock.advance(1000);
    assert.deepEqual(names(), ["b", "c"]);
  });

  test("cancelling the entry the timer is armed for still lets later entries fire", () => {
    const { clock, queue, entry, names } = setup();
    const a = entry("a");
    const b = entry("b");
    queue.schedule(a, 10);
    queue.schedule(b, 500);
    queue.cancel(a);
    clock.advance(100);
    assert.deepEqual(names(), []);
    assert.equal(queue.pending, 1);
    clock.advance(1000);
    assert.deepEqual(names(), ["b"]);
    assert.equal(clock.timers.size, 0, "nothing left armed");
  });

  test("reschedule moves the deadline (later and earlier)", () => {
    const { clock, queue, entry, log } = setup();
    const a = entry("a");
    queue.schedule(a, 100);
    clock.advance(60);
    queue.schedule(a, 100); // now due at 160
    clock.advance(60); // t = 120
    assert.equal(log.length, 0);
    assert.equal(queue.pending, 1);
    clock.advance(100);
    assert.equal(log.length, 1);
    assert.ok(log[0]![2] >= 160);

    const b = entry("b");
    queue.schedule(b, 10_000);
    queue.schedule(b, 5); // earlier: the queue must re-arm for it
    clock.advance(10);
    assert.equal(log.length, 2);
    assert.equal(log[1]![0], "b");
    assert.equal(queue.pending, 0);
  });

  test("delays of 2 s or more may fire late by 1/64 of the delay (at most 1 s), never early; shorter ones are exact", () => {
    assert.equal(slackOf(1999), 0);
    assert.equal(slackOf(2000), 31);
    assert.equal(slackOf(25_000), 390);
    assert.equal(slackOf(10 * 60_000), 1000);
    const { clock, queue, log, entry } = setup();
    const deadlines = new Map<string, number>();
    const at = (name: string, delay: number) => {
      deadlines.set(name, clock.now() + delay);
      queue.schedule(entry(name), delay);
    };
    at("a", 6400); // slack 100: due 6400, wakes at 6500
    clock.advance(10);
    at("b", 6400); // due 6410
    clock.advance(40);
    at("c", 6400); // due 6450
    clock.advance(100);
    at("d", 6400); // due 6550: after the first wake-up
    at("short", 1500); // due 1650, no slack
    clock.advance(1499); // t = 1649
    assert.equal(log.length, 0);
    clock.advance(2); // t = 1651
    assert.deepEqual(log.map(([n]) => n), ["short"]);
    clock.advance(6499 - 1651); // t = 6499: a is due, but its slack has not run out
    assert.equal(log.length, 1);
    clock.advance(1000);
    assert.deepEqual(log.map(([n]) => n), ["short", "a", "b", "c", "d"]);
    const times = new Map<string, number>(log.map(([n, , t]): [string, number] => [n, t]));
    for (const [name, due] of deadlines) {
      const t = times.get(name)!;
      assert.ok(t >= due, `${name} fired at ${t}, before ${due}`);
      assert.ok(t <= due + slackOf(name === "short" ? 1500 : 6400) + 1, `${name} fired at ${t}, later than its slack allows (due ${due})`);
    }
    // a, b and c came due within a's slack: one wake-up ran all three.
    assert.equal(times.get("a"), times.get("b"));
    assert.equal(times.get("a"), times.get("c"));
    assert.notEqual(times.get("d"), times.get("a"));
    assert.equal(queue.pending, 0);
  });

  test("an entry rescheduled from its own callback with delay 0 fires once per wake-up, not in a loop", () => {
    const { clock, queue, log } = setup();
    let entry!: TimerEntry;
    const target = new Recorder("self", log, clock, () => {
      assert.ok(log.length < 50, "runaway");
      queue.schedule(entry, 0);
    });
    entry = new TimerEntry(target, 0);
    queue.schedule(entry, 0);
    for (let step = 1; step <= 5; step++) {
      clock.advance(1);
      assert.equal(log.length, step, `after ${step} ms`);
      assert.equal(queue.pending, 1);
      assert.equal(clock.timers.size, 1, "exactly one timer armed");
    }
    queue.cancel(entry);
    clock.advance(10);
    assert.equal(log.length, 5);
  });

  test("fire() called directly runs what is due once and leaves exactly one timer armed", () => {
    const { clock, queue, log } = setup();
    let entry!: TimerEntry;
    entry = new TimerEntry(new Recorder("self", log, clock, () => queue.schedule(entry, 0)), 0);
    queue.schedule(entry, 0);
    queue.fire();
    assert.equal(log.length, 1);
    queue.fire();
    assert.equal(log.length, 2);
    assert.equal(clock.timers.size, 1, "the previously armed timer was replaced, not leaked");
    clock.advance(1);
    assert.equal(log.length, 3);
    queue.cancel(entry);
    queue.stop();
    assert.equal(clock.timers.size, 0);
  });

  test("a delay-0 entry scheduled by another callback waits for the next pass", () => {
    const { clock, queue, entry, names } = setup();
    const late = entry("late");
    const first = entry("first", 0, () => queue.schedule(late, 0));
    queue.schedule(first, 10);
    clock.advance(11);
    assert.deepEqual(names(), ["first"]);
    clock.advance(5);
    assert.deepEqual(names(), ["first", "late"]);
  });

  test("a throwing target does not stop the other entries, of the same or other delays", () => {
    const { clock, queue, entry, names } = setup();
    const boom = entry("boom", 0, () => {
      throw new Error("boom");
    });
    queue.schedule(boom, 10);
    queue.schedule(entry("same"), 10);
    queue.schedule(entry("other"), 20);
    queue.schedule(entry("much later"), 1000);
    clock.advance(25);
    assert.deepEqual(names(), ["boom", "same", "other"]);
    clock.advance(1000);
    assert.deepEqual(names(), ["boom", "same", "other", "much later"]);
    // And the queue keeps working afterwards.
    queue.schedule(boom, 1);
    queue.schedule(entry("after"), 1);
    clock.advance(5);
    assert.deepEqual(names().slice(-2), ["boom", "after"]);
  });

  test("a callback may cancel an entry due in the same pass", () => {
    const { clock, queue, entry, names } = setup();
    const victim = entry("victim");
    const killer = entry("killer", 0, () => queue.cancel(victim));
    queue.schedule(killer, 10);
    queue.schedule(victim, 10);
    clock.advance(20);
    assert.deepEqual(names(), ["killer"]);
    assert.equal(queue.pending, 0);
  });

  test("stop() disarms; entries stay pending and fire once something is scheduled again", () => {
    const { clock, queue, entry, names } = setup();
    queue.schedule(entry("a"), 10);
    queue.stop();
    assert.equal(clock.timers.size, 0);
    clock.advance(100);
    assert.deepEqual(names(), []);
    assert.equal(queue.pending, 1);
    queue.schedule(entry("b"), 10);
    clock.advance(20);
    assert.deepEqual(names(), ["a", "b"]);
  });

  test("at most one real timer is armed at any time", () => {
    const { clock, queue, entry } = setup();
    for (let i = 0; i < 50; i++) queue.schedule(entry(`e${i}`), (i * 37) % 500);
    assert.equal(clock.timers.size, 1);
    clock.advance(200);
    assert.ok(clock.timers.size <= 1);
    clock.advance(1000);
    assert.equal(clock.timers.size, 0);
  });

  test("random schedules and cancels: each live entry fires exactly once, never early, cancelled never (seeded)", () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const { clock, queue, log, entry } = setup();
    const delays = [0, 5, 17, 40, 100];
    const entries = Array.from({ length: 300 }, (_, i) => entry(String(i)));
    const deadline = new Map<string, number>();
    for (let step = 0; step < 2000; step++) {
      const e = entries[Math.floor(rand() * entries.length)]!;
      const name = (e.target as Recorder).name;
      const op = rand();
      if (op < 0.5) {
        const delay = delays[Math.floor(rand() * delays.length)]!;
        queue.schedule(e, delay);
        deadline.set(name, clock.now() + delay);
      } else if (op < 0.7) {
        queue.cancel(e);
        deadline.delete(name);
      } else {
        const before = log.length;
        clock.advance(Math.floor(rand() * 10));
        for (const [fired, , at] of log.slice(before)) {
          const due = deadline.get(fired);
          assert.notEqual(due, undefined, `${fired} fired while not scheduled`);
          assert.ok(at >= due!, `${fired} fired at ${at}, before its deadline ${due}`);
          deadline.delete(fired);
        }
      }
      assert.equal(queue.pending, deadline.size);
    }
    const before = log.length;
    clock.advance(1000);
    const fired = log.slice(before).map(([n]) => n);
    assert.deepEqual(new Set(fired), new Set(deadline.keys()));
    assert.equal(fired.length, deadline.size);
  });

  test(
    "entries of different delays that come due in the same (late) pass fire in deadline order",
    () => {
      const { clock, queue, entry, names } = setup();
      queue.schedule(entry("late300"), 300);
      queue.schedule(entry("early100"), 100);
      clock.time = 1000; // the event loop was blocked: one wake-up finds both due
      queue.fire();
      assert.deepEqual(names(), ["early100", "late300"]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// EngineServer: handshake and long-polling

describe("EngineServer over fake HTTP: handshake and polling", () => {
  test("handshake: open packet with the configured values, connection event, session registered", async () => {
    const rig = new Rig({ maxHttpBufferSize: 1234 });
    const exchange = await rig.request("GET", POLL);
    assert.equal(exchange.status, 200);
    assert.equal(exchange.response.headers["Content-Type"], "text/plain; charset=UTF-8");
    assert.equal(exchange.text[0], "0");
    const open = JSON.parse(exchange.text.slice(1)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(open), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]);
    assert.match(open.sid as string, /^[A-Za-z0-9_-]{20}$/);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, 1000);
    assert.equal(open.pingTimeout, 500);
    assert.equal(open.maxPayload, 1234);
    assert.equal(rig.opened.length, 1);
    assert.equal(rig.opened[0]!.id, open.sid);
    assert.equal(rig.opened[0]!.transportName, "polling");
    assert.equal(rig.engine.clientsCount, 1);
    assert.equal(rig.opened[0]!.request, exchange.request);
  });

  test("handshake: upgrades is empty with allowUpgrades false or polling only; generateId is used", async () => {
    for (const options of [{ allowUpgrades: false }, { transports: ["polling"] as const }]) {
      const rig = new Rig(options);
      assert.deepEqual((await rig.handshake()).open.upgrades, []);
    }
    let n = 0;
    const rig = new Rig({ generateId: () => `id-${n++}` });
    assert.equal((await rig.handshake()).sid, "id-0");
    assert.equal((await rig.handshake()).sid, "id-1");
  });

  test("a GET waits until a message is sent; messages of one turn leave in one payload", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.runFlushes();
    assert.equal(get.answered, false);
    assert.equal(rig.engine.send(sid, "hello"), true);
    assert.equal(rig.engine.send(sid, new Uint8Array([1, 2, 3])), true);
    assert.equal(rig.socket(sid).send("again"), true);
    assert.equal(get.answered, false, "sending is batched until the flush");
    rig.runFlushes();
    assert.equal(get.status, 200);
    assert.equal(get.response.headers["Content-Type"], "text/plain; charset=UTF-8");
    assert.equal(get.text, "4hello\x1ebAQID\x1e4again");
  });

  test("messages sent with no GET waiting are queued and answer the next GET at once", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    rig.engine.send(sid, "a");
    rig.runFlushes();
    rig.engine.send(sid, "b");
    rig.runFlushes();
    const get = await rig.get(sid);
    assert.equal(get.text, "4a\x1e4b");
    const next = await rig.get(sid);
    assert.equal(next.answered, false);
  });

  test("send to an unknown sid returns false", () => {
    const rig = new Rig();
    assert.equal(rig.engine.send("nope", "x"), false);
  });

  test("POST delivers each message to engine.on('message') in order and is answered ok", async () => {
    const rig = new Rig({ maxHttpBufferSize: 100 });
    const { sid } = await rig.handshake();
    const post = await rig.post(sid, "4hello\x1ebAQID\x1e4\x1e2\x1e6\x1e4é");
    assert.equal(post.status, 200);
    assert.equal(post.text, "ok");
    assert.equal(post.response.headers["Content-Type"], "text/html; charset=UTF-8");
    assert.equal(post.limitSeen, 100);
    assert.deepEqual(
      rig.messages.map(([s, d]) => [s, typeof d === "string" ? d : Array.from(d)]),
      [
        [sid, "hello"],
        [sid, [1, 2, 3]],
        [sid, ""],
        [sid, "é"],
      ],
    );
    assert.equal(rig.closes.length, 0);
  });

  test("POST 1 (close) ends the session with 'transport close'", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    const post = await rig.post(sid, "1");
    assert.equal(post.text, "ok");
    assert.deepEqual(rig.closes, [[sid, "transport close"]]);
    // The reference server releases the waiting poll with a noop: the client asked for the close.
    assert.equal(get.text, "6", "the waiting poll is released");
    assert.equal(rig.engine.sessions.get(sid), undefined);
  });

  test("a close the server starts still reaches the waiting poll as 1", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = rig.get(sid);
    rig.engine.disconnect(sid);
    rig.runFlushes();
    assert.equal((await get).text, "1");
  });

  for (const [name, body] of [
    ["bad base64", "4ok\x1eb!!!"],
    ["unknown packet type", "9x"],
    ["empty packet", "4a\x1e"],
    ["invalid UTF-8", new Uint8Array([0x34, 0xff, 0xfe])],
  ] as const) {
    test(`POST with ${name}: 400 Bad request, 'parse error', nothing delivered`, async () => {
      const rig = new Rig();
      const { sid } = await rig.handshake();
      const post = await rig.post(sid, body);
      assert.equal(post.status, 400);
      assert.deepEqual(post.json, errorBody(3, "Bad request"));
      assert.deepEqual(rig.messages, []);
      assert.deepEqual(rig.closes, [[sid, "parse error"]]);
      assert.deepEqual((await rig.get(sid)).json, errorBody(1, "Session ID unknown"));
    });
  }

  for (const type of ["0", "5"]) {
    test(`POST of packet type ${type} on an established session is a 'parse error'`, async () => {
      const rig = new Rig();
      const { sid } = await rig.handshake();
      const post = await rig.post(sid, `4before\x1e${type}\x1e4after`);
      assert.equal(post.text, "ok");
      assert.deepEqual(rig.messages, [[sid, "before"]]);
      assert.deepEqual(rig.closes, [[sid, "parse error"]]);
    });
  }

  test("POST larger than maxHttpBufferSize: 413 and 'transport error'", async () => {
    const rig = new Rig({ maxHttpBufferSize: 10 });
    const { sid } = await rig.handshake();
    const post = await rig.post(sid, "4" + "x".repeat(10));
    assert.equal(post.status, 413);
    assert.deepEqual(post.json, errorBody(3, "Payload too large"));
    assert.deepEqual(rig.closes, [[sid, "transport error"]]);
    assert.deepEqual(rig.messages, []);
  });

  test("POST whose upload is aborted closes the session without a response", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const post = await rig.post(sid, { ok: false, reason: "aborted" });
    assert.equal(post.answered, false);
    assert.deepEqual(rig.closes, [[sid, "transport error"]]);
  });

  test("two concurrent GETs: the second is 400, the session closes with 'transport error'", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const first = await rig.get(sid);
    assert.equal(first.answered, false);
    const second = await rig.get(sid);
    assert.equal(second.status, 400);
    assert.equal(second.response.headers["Content-Type"], "application/json");
    assert.deepEqual(second.json, errorBody(3, "Bad request"));
    assert.deepEqual(rig.closes, [[sid, "transport error"]]);
    assert.equal(first.text, "1", "the waiting poll is released with a close packet");
    assert.deepEqual((await rig.get(sid)).json, errorBody(1, "Session ID unknown"));
    assert.equal(rig.engine.clientsCount, 0);
  });

  test("two concurrent POSTs: the second is 400, the session closes with 'transport error'", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    let finishFirst!: (r: BodyResult) => void;
    const firstBody = new Promise<BodyResult>((resolve) => (finishFirst = resolve));
    const firstDone = rig.post(sid, firstBody);
    await Promise.resolve();
    const second = await rig.post(sid, "4b");
    assert.equal(second.status, 400);
    assert.deepEqual(second.json, errorBody(3, "Bad request"));
    assert.deepEqual(rig.closes, [[sid, "transport error"]]);
    finishFirst({ ok: true, body: encoder.encode("4a") });
    await firstDone;
    assert.deepEqual(rig.messages, [], "nothing is delivered to a closed session");
  });

  test("aborting a pending GET closes the session with 'transport close'", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    assert.ok(get.abortListener, "the GET registered an abort listener");
    get.abort();
    assert.deepEqual(rig.closes, [[sid, "transport close"]]);
    assert.equal(get.answered, false);
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.deepEqual((await rig.post(sid, "4x")).json, errorBody(1, "Session ID unknown"));
  });

  test("an abort reported after the GET was answered changes nothing", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.engine.send(sid, "x");
    rig.runFlushes();
    assert.equal(get.text, "4x");
    get.abortListener!(); // a stray close event from the runtime
    assert.deepEqual(rig.closes, []);
    assert.equal(rig.socket(sid).readyState, "open");
  });

  test("HTTP errors answered by handleRequest", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const cases: Array<[string, string, number, { code: number; message: string }]> = [
      ["GET", "/socket.io/?EIO=4&transport=carrier-pigeon", 400, errorBody(0, "Transport unknown")],
      ["GET", "/socket.io/?EIO=4", 400, errorBody(0, "Transport unknown")],
      ["GET", `${POLL}&sid=unknown`, 400, errorBody(1, "Session ID unknown")],
      ["POST", POLL, 400, errorBody(2, "Bad handshake method")],
      ["PUT", POLL, 400, errorBody(2, "Bad handshake method")],
      ["GET", WS, 400, errorBody(3, "Bad request")],
      ["GET", `${WS}&sid=${sid}`, 400, errorBody(3, "Bad request")],
      ["PUT", `${POLL}&sid=${sid}`, 400, errorBody(3, "Bad request")],
      ["GET", "/socket.io/?EIO=3&transport=polling", 400, errorBody(5, "Unsupported protocol version")],
      ["GET", "/socket.io/?transport=polling", 400, errorBody(5, "Unsupported protocol version")],
    ];
    for (const [method, url, status, body] of cases) {
      const exchange = await rig.request(method, url);
      assert.equal(exchange.status, status, `${method} ${url}`);
      assert.deepEqual(exchange.json, body, `${method} ${url}`);
      assert.equal(exchange.response.headers["Content-Type"], "application/json");
    }
    assert.equal(rig.socket(sid).readyState, "open", "errors about a session's request do not close it");
    assert.deepEqual(rig.closes, []);
  });

  test("allowRequest false / throwing / async: 403 Forbidden, no session", async () => {
    for (const allowRequest of [() => false, () => Promise.resolve(false), () => { throw new Error("no"); }, () => "yes" as unknown as boolean]) {
      const rig = new Rig({ allowRequest });
      const exchange = await rig.request("GET", POLL);
      assert.equal(exchange.status, 403);
      assert.deepEqual(exchange.json, errorBody(4, "Forbidden"));
      assert.equal(rig.engine.clientsCount, 0);
      assert.equal(rig.opened.length, 0);
    }
    const rig = new Rig({ allowRequest: async (req) => req.header("x-token") === "t" });
    assert.equal((await rig.request("GET", POLL, "", { "X-Token": "t" })).status, 200);
  });

  test("a cross-origin request is 403 under the default same-origin policy; same origin passes", async () => {
    const rig = new Rig();
    const cross = await rig.request("GET", POLL, "", { Origin: "http://evil.test", Host: "app.test" });
    assert.equal(cross.status, 403);
    assert.deepEqual(cross.json, errorBody(4, "Forbidden"));
    const same = await rig.request("GET", POLL, "", { Origin: "http://app.test", Host: "app.test" });
    assert.equal(same.status, 200);
  });
});

// ---------------------------------------------------------------------------------------------
// heartbeat

describe("EngineServer heartbeat (manual clock)", () => {
  test("after pingInterval the waiting GET gets a ping", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.clock.advance(999);
    rig.runFlushes();
    assert.equal(get.answered, false);
    rig.clock.advance(2);
    rig.runFlushes();
    assert.equal(get.text, "2");
  });

  test("an idle session's ping is written by the timer itself, without waiting for the end-of-turn flush", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.clock.advance(1001);
    assert.equal(get.text, "2");
  });

  test("a ping due while packets wait in the queue goes out after them, in the same response", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    assert.equal(rig.socket(sid).send("before"), true);
    rig.clock.advance(1001);
    assert.equal(get.answered, false);
    rig.runFlushes();
    assert.deepEqual(decodePayload(get.text), { ok: true, value: [{ type: PacketType.MESSAGE, data: "before" }, { type: PacketType.PING }] });
  });

  test("without a pong, the session closes after pingTimeout with 'ping timeout'", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.clock.advance(1001);
    rig.runFlushes();
    assert.equal(get.text, "2");
    const next = await rig.get(sid);
    rig.clock.advance(499);
    assert.deepEqual(rig.closes, []);
    rig.clock.advance(2);
    assert.deepEqual(rig.closes, [[sid, "ping timeout"]]);
    assert.equal(next.text, "1", "the waiting poll is released");
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.deepEqual((await rig.get(sid)).json, errorBody(1, "Session ID unknown"));
  });

  test("a pong resets the heartbeat: no timeout, and the next ping comes pingInterval after the pong", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    let get = await rig.get(sid);
    rig.clock.advance(1001);
    for (let round = 0; round < 5; round++) {
      rig.runFlushes();
      assert.equal(get.text, "2", `round ${round}`);
      rig.clock.advance(400); // within pingTimeout
      assert.equal((await rig.post(sid, "3")).text, "ok");
      get = await rig.get(sid);
      rig.clock.advance(600); // past the deadline the pong cancelled
      assert.deepEqual(rig.closes, []);
      rig.clock.advance(300); // 900 ms after the pong: no new ping yet
      rig.runFlushes();
      assert.equal(get.answered, false);
      rig.clock.advance(101); // pingInterval after the pong
    }
    rig.runFlushes();
    assert.equal(get.text, "2");
    assert.equal(rig.socket(sid).readyState, "open");
  });

  test("the ping is queued when no GET waits and delivered with the next one", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    rig.clock.advance(1001);
    rig.runFlushes();
    const get = await rig.get(sid);
    assert.equal(get.text, "2");
    await rig.post(sid, "3");
    rig.clock.advance(10_000);
    // Pings kept coming and no pong was sent after the first: the session timed out.
    assert.deepEqual(rig.closes, [[sid, "ping timeout"]]);
  });

  test("heartbeats of many sessions share one armed timer", async () => {
    const rig = new Rig();
    for (let i = 0; i < 20; i++) await rig.handshake();
    assert.equal(rig.clock.timers.size, 1);
    assert.equal(rig.engine.timers.pending, 20);
  });
});

// ---------------------------------------------------------------------------------------------
// server-side close

describe("EngineServer close paths", () => {
  test("socket.close() on polling: the next GET gets the queued packets, the one after it 1; the session is released", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    rig.engine.send(sid, "last words");
    rig.engine.send(sid, "really");
    rig.socket(sid).close();
    assert.deepEqual(rig.closes, [[sid, "forced close"]]);
    assert.equal(rig.socket(sid).readyState, "closing");
    assert.equal(rig.engine.send(sid, "too late"), false);
    rig.runFlushes();
    const get = await rig.get(sid);
    // CLOSE in a response of its own: a client reads it before the packets beside it.
    assert.equal(get.text, "4last words\x1e4really");
    assert.equal(rig.socket(sid).readyState, "closing");
    assert.equal((await rig.get(sid)).text, "1");
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.deepEqual((await rig.get(sid)).json, errorBody(1, "Session ID unknown"));
    assert.equal(rig.closes.length, 1, "close reported once");
  });

  test("socket.close() with a GET waiting answers it at once, with CLOSE alone when nothing was queued", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    rig.engine.send(sid, "bye");
    rig.socket(sid).close("forced close");
    assert.equal(get.text, "4bye");
    assert.equal((await rig.get(sid)).text, "1");
    assert.equal(rig.engine.sessions.get(sid), undefined);

    const idle = await rig.handshake();
    const waiting = await rig.get(idle.sid);
    rig.socket(idle.sid).close("forced close");
    assert.equal(waiting.text, "1");
    assert.equal(rig.engine.sessions.get(idle.sid), undefined);
  });

  test("a closed polling session nobody polls is released after the grace period (pingTimeout)", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    rig.engine.disconnect(sid);
    assert.deepEqual(rig.closes, [[sid, "forced close"]]);
    assert.ok(rig.engine.sessions.get(sid));
    rig.clock.advance(501);
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.equal(rig.engine.timers.pending, 0);
  });

  test("a POST to a closing session is answered but not delivered", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    rig.socket(sid).close();
    const post = await rig.post(sid, "4late");
    assert.equal(post.text, "ok");
    assert.deepEqual(rig.messages, []);
  });

  test("engine.close(): every session closes with 'server shutting down'; new handshakes are refused", async () => {
    const rig = new Rig();
    const a = await rig.handshake();
    const b = await rig.handshake();
    const ws = await rig.openWebSocket();
    const getA = await rig.get(a.sid);
    rig.engine.send(b.sid, "queued for b");
    rig.engine.close();
    assert.deepEqual(
      rig.closes.map(([, reason]) => reason),
      ["server shutting down", "server shutting down", "server shutting down"],
    );
    assert.deepEqual(new Set(rig.closes.map(([sid]) => sid)), new Set([a.sid, b.sid, ws.sid]));
    assert.equal(getA.text, "1");
    assert.deepEqual(ws.peer.closed, { code: 1000, reason: undefined });
    assert.equal(rig.engine.sessions.get(ws.sid), undefined);
    // b had no GET waiting: its packets are delivered to its next GET, the close to the one after.
    const getB = await rig.get(b.sid);
    assert.equal(getB.text, "4queued for b");
    assert.equal((await rig.get(b.sid)).text, "1");
    assert.equal(rig.engine.clientsCount, 0);
    // No timer stays armed after close.
    assert.equal(rig.clock.timers.size, 0);

    const refused = await rig.request("GET", POLL);
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, errorBody(4, "Server is shutting down"));
    const upgrade = await rig.engine.prepareUpgrade(fakeRequest("GET", WS));
    assert.equal(upgrade.ok, false);
    if (!upgrade.ok) {
      assert.equal(upgrade.status, 403);
      assert.deepEqual(JSON.parse(upgrade.body), errorBody(4, "Server is shutting down"));
    }
  });

  test("maxBufferedBytes exceeded by the queue: 'buffer full' at the next packet, nothing delivered", async () => {
    const rig = new Rig({ maxBufferedBytes: 100 });
    const { sid } = await rig.handshake();
    assert.equal(rig.engine.send(sid, "x".repeat(60)), true);
    // Taken: the backlog (61 bytes) was within the limit; it is now 122, the limit plus one packet.
    assert.equal(rig.engine.send(sid, "y".repeat(60)), true);
    assert.equal(rig.engine.sessions.get(sid)?.bufferedBytes, 122);
    assert.deepEqual(rig.closes, []);
    assert.equal(rig.engine.send(sid, "z"), false);
    assert.deepEqual(rig.closes, [[sid, "buffer full"]]);
    assert.equal(rig.engine.sessions.get(sid), undefined);
    rig.runFlushes();
    assert.deepEqual((await rig.get(sid)).json, errorBody(1, "Session ID unknown"));
  });

  test("maxBufferedBytes: one packet larger than the limit reaches a client that reads", async () => {
    const rig = new Rig({ maxBufferedBytes: 100 });
    const { sid, peer } = await rig.openWebSocket();
    assert.equal(rig.engine.send(sid, "x".repeat(500)), true);
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "4" + "x".repeat(500));
    assert.deepEqual(rig.closes, []);
    assert.equal(rig.engine.send(sid, "next"), true, "the runtime wrote it all: the backlog is empty again");
  });

  test("maxBufferedBytes: what the runtime held at the last write is read again before closing (it may have drained)", async () => {
    const rig = new Rig({ maxBufferedBytes: 100 });
    const { sid, peer } = await rig.openWebSocket();
    peer.bufferedAmount = 90; // after this write, 90 bytes still wait in the runtime
    rig.engine.send(sid, "a");
    rig.runFlushes();
    peer.bufferedAmount = 0; // then the client read them
    assert.equal(rig.engine.send(sid, "y".repeat(50)), true);
    assert.equal(rig.engine.send(sid, "z".repeat(50)), true);
    assert.deepEqual(rig.closes, []);
    peer.bufferedAmount = 95; // stopped reading again: 95 waiting in the runtime + 102 queued
    assert.equal(rig.engine.send(sid, "w"), false);
    assert.deepEqual(rig.closes, [[sid, "buffer full"]]);
  });

  test("maxBufferedBytes: a runtime that dropped a frame (bufferedAmount Infinity, Bun) closes the session with 'buffer full'", async () => {
    const rig = new Rig({ maxBufferedBytes: 100 });
    const { sid, peer } = await rig.openWebSocket();
    peer.bufferedAmount = Number.POSITIVE_INFINITY;
    rig.engine.send(sid, "lost");
    rig.runFlushes();
    assert.deepEqual(rig.closes, [[sid, "buffer full"]]);
    assert.ok(peer.closed);
  });

  test("maxBufferedBytes exceeded by what the WebSocket has not written yet: 'buffer full'", async () => {
    const rig = new Rig({ maxBufferedBytes: 100 });
    const { sid, peer } = await rig.openWebSocket();
    rig.engine.send(sid, "fits");
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "4fits");
    peer.bufferedAmount = 101; // a client that stopped reading (grown by writes the engine did not make: Bun's publish)
    assert.equal(rig.engine.send(sid, "more"), true, "the engine last saw an empty runtime buffer");
    rig.runFlushes();
    assert.deepEqual(rig.closes, []);
    assert.equal(rig.engine.send(sid, "again"), false, "read at the write: 101 bytes wait");
    assert.deepEqual(rig.closes, [[sid, "buffer full"]]);
    assert.ok(peer.closed);
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket sessions and upgrades

describe("EngineServer WebSocket sessions", () => {
  test("inline delivery (beginInline/endInline): what a message causes is written before the runtime's callback returns", async () => {
    const rig = new Rig();
    const { sid, peer, transport } = await rig.openWebSocket();
    const other = await rig.openWebSocket();
    rig.engine.on("message", (socket, data) => {
      rig.engine.send(socket.id, `re:${String(data)}`);
      rig.engine.send(socket.id, "second");
      rig.engine.send(other.sid, "to-other"); // another session's writes leave too
    });
    rig.engine.beginInline();
    transport.onFrame("4ping");
    assert.equal(peer.writes, 1, "nothing written while the message is being handled");
    rig.engine.endInline();
    assert.deepEqual(peer.texts.slice(1), ["4re:ping", "4second"]);
    assert.equal(peer.writes, 2, "one write for everything the message caused");
    assert.deepEqual(other.peer.texts.slice(1), ["4to-other"]);
    assert.equal(rig.flushes.length, 0, "no end-of-turn flush was scheduled");

    // Nested deliveries flush once, at the outermost end; outside them the scheduled flush is back.
    rig.engine.beginInline();
    rig.engine.beginInline();
    transport.onFrame("4a");
    rig.engine.endInline();
    assert.equal(peer.writes, 2);
    rig.engine.endInline();
    assert.equal(peer.writes, 3);
    rig.engine.send(sid, "later");
    assert.equal(rig.flushes.length, 1);
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "4later");
  });

  test("a direct WebSocket session: open frame without upgrades, messages both ways, heartbeat", async () => {
    const rig = new Rig();
    const { sid, peer, transport } = await rig.openWebSocket();
    const open = JSON.parse((peer.frames[0] as string).slice(1)) as Record<string, unknown>;
    assert.deepEqual(open.upgrades, []);
    assert.equal(rig.socket(sid).transportName, "websocket");
    transport.onFrame("4hello");
    transport.onFrame(new Uint8Array([9, 8]));
    assert.deepEqual(
      rig.messages.map(([, d]) => (typeof d === "string" ? d : Array.from(d))),
      ["hello", [9, 8]],
    );
    rig.engine.send(sid, "a");
    rig.engine.send(sid, new Uint8Array([1]));
    rig.runFlushes();
    assert.deepEqual(peer.texts.slice(1), ["4a", "<bin 1>"]);
    assert.equal(peer.writes, 2, "open frame, then one write for the batch");
    rig.clock.advance(1001);
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "2");
    transport.onFrame("3");
    rig.clock.advance(600);
    assert.deepEqual(rig.closes, []);
    rig.clock.advance(1000);
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "2");
    rig.clock.advance(501);
    assert.deepEqual(rig.closes, [[sid, "ping timeout"]]);
    assert.deepEqual(peer.closed, { code: 1000, reason: undefined });
  });

  test("a malformed frame closes only that session ('parse error')", async () => {
    const rig = new Rig();
    const bad = await rig.openWebSocket();
    const good = await rig.openWebSocket();
    bad.transport.onFrame("9x");
    assert.deepEqual(rig.closes, [[bad.sid, "parse error"]]);
    assert.ok(bad.peer.closed);
    good.transport.onFrame("4still here");
    assert.deepEqual(rig.messages, [[good.sid, "still here"]]);
  });

  test("an oversized frame closes the WebSocket with 1009 and the session with 'transport error'", async () => {
    const rig = new Rig({ maxHttpBufferSize: 10 });
    const { sid, peer, transport } = await rig.openWebSocket();
    transport.onFrame("4" + "x".repeat(10));
    assert.deepEqual(peer.closed, { code: 1009, reason: "message too big" });
    assert.deepEqual(rig.closes, [[sid, "transport error"]]);
    assert.deepEqual(rig.messages, []);
  });

  test("the client closing the WebSocket ends the session with 'transport close'", async () => {
    const rig = new Rig();
    const { sid, transport } = await rig.openWebSocket();
    transport.onClose();
    assert.deepEqual(rig.closes, [[sid, "transport close"]]);
    transport.onFrame("4ignored");
    assert.deepEqual(rig.messages, []);
  });

  test("upgrade: probe -> 3probe, the pending GET is released with 6, 5 switches, then frames go over WS", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    const { peer, transport } = await rig.probe(sid);
    assert.equal(rig.socket(sid).upgrading, true);
    assert.equal(rig.socket(sid).transportName, "polling");
    assert.deepEqual(peer.frames, [], "nothing is sent on the probe before 2probe");
    transport.onFrame("2probe");
    assert.deepEqual(peer.texts, ["3probe"]);
    assert.equal(get.text, "6");
    transport.onFrame("5");
    assert.equal(rig.socket(sid).transportName, "websocket");
    assert.equal(rig.socket(sid).upgrading, false);
    rig.engine.send(sid, "over ws");
    rig.runFlushes();
    assert.deepEqual(peer.texts, ["3probe", "4over ws"]);
    transport.onFrame("4from client");
    assert.deepEqual(rig.messages, [[sid, "from client"]]);
    // Polling requests for this session are now refused (transport mismatch), without closing it.
    const late = await rig.get(sid);
    assert.equal(late.status, 400);
    assert.deepEqual(late.json, errorBody(3, "Bad request"));
    assert.equal(rig.socket(sid).readyState, "open");
    // A second upgrade request completes its WebSocket handshake, and that socket is closed at
    // once (reference behaviour), without disturbing the session.
    const again = await rig.engine.prepareUpgrade(fakeRequest("GET", `${WS}&sid=${sid}`));
    assert.equal(again.ok, true);
    const latePeer = new FakePeer();
    rig.engine.acceptWebSocket(again as Extract<UpgradeDecision, { ok: true }>, latePeer);
    assert.ok(latePeer.closed);
    assert.deepEqual(latePeer.frames, []);
    assert.equal(rig.socket(sid).readyState, "open");
    // Heartbeats now travel over the WebSocket.
    rig.clock.advance(1001);
    rig.runFlushes();
    assert.equal(peer.texts.at(-1), "2");
  });

  test("upgrade: packets queued before 5 go over WS in order, none lost or duplicated", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const received: string[] = [];
    const get1 = await rig.get(sid);
    rig.engine.send(sid, "m1");
    rig.runFlushes();
    received.push(...payloadPackets(get1.text));
    rig.engine.send(sid, "m2");
    rig.engine.send(sid, "m3");
    rig.runFlushes(); // no GET waiting: stays queued
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    rig.engine.send(sid, "m4");
    rig.runFlushes();
    transport.onFrame("5");
    rig.engine.send(sid, "m5");
    rig.runFlushes();
    received.push(...peer.texts.filter((f) => f !== "3probe").map((f) => `msg:${f.slice(1)}`));
    assert.deepEqual(received, ["msg:m1", "msg:m2", "msg:m3", "msg:m4", "msg:m5"]);
    assert.deepEqual(peer.texts, ["3probe", "4m2", "4m3", "4m4", "4m5"]);
  });

  test("upgrade: a message whose flush is still pending when 5 arrives goes over WS once", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    assert.equal(get.text, "6");
    const get2 = await rig.get(sid); // a client that polls again during the probe gets a noop too
    assert.equal(get2.text, "6");
    const get3Pending = rig.engine.send(sid, "racing");
    assert.equal(get3Pending, true);
    transport.onFrame("5"); // before the scheduled flush runs
    rig.runFlushes();
    assert.deepEqual(peer.texts, ["3probe", "4racing"]);
  });

  test("upgrade: a GET still waiting when 5 arrives is released with 6", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe"); // no GET waiting at probe time
    const get = await rig.get(sid); // probed and nothing queued: answered with a noop
    assert.equal(get.text, "6");
    rig.engine.send(sid, "x");
    rig.runFlushes(); // no GET: queued
    transport.onFrame("5");
    assert.deepEqual(peer.texts, ["3probe", "4x"]);
  });

  test("upgrade: data waiting at probe time answers the pending GET instead of a noop", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const get = await rig.get(sid);
    const { peer, transport } = await rig.probe(sid);
    rig.engine.send(sid, "a");
    transport.onFrame("2probe"); // before the flush: the waiting GET takes the data
    assert.equal(get.text, "4a");
    rig.runFlushes();
    transport.onFrame("5");
    rig.runFlushes();
    assert.deepEqual(peer.texts, ["3probe"]);
  });

  test("upgrade, random interleavings: every message arrives exactly once and in order (seeded)", async () => {
    let seed = 2718;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (let round = 0; round < 150; round++) {
      const rig = new Rig({ upgradeTimeout: 1_000_000, pingInterval: 1_000_000 });
      const { sid } = await rig.handshake();
      const sent: string[] = [];
      const received: string[] = [];
      let pending: FakeExchange | null = null;
      let probe: { peer: FakePeer; transport: WebSocketTransport } | null = null;
      let probed = false;
      let upgraded = false;
      const collect = () => {
        if (pending?.answered) {
          for (const p of payloadPackets(pending.text)) if (p.startsWith("msg:")) received.push(p.slice(4));
          pending = null;
        }
      };
      for (let step = 0; step < 40; step++) {
        const op = rand();
        if (op < 0.4) {
          const m = `r${round}m${sent.length}`;
          sent.push(m);
          assert.equal(rig.engine.send(sid, m), true);
        } else if (op < 0.6) {
          rig.runFlushes();
        } else if (op < 0.8) {
          if (!upgraded && pending === null) pending = await rig.get(sid);
        } else if (op < 0.9) {
          if (probe === null) probe = await rig.probe(sid);
          else if (!probed) {
            probe.transport.onFrame("2probe");
            probed = true;
          }
        } else if (probed && !upgraded) {
          probe!.transport.onFrame("5");
          upgraded = true;
        }
        collect();
      }
      if (probe === null) probe = await rig.probe(sid);
      if (!probed) probe.transport.onFrame("2probe");
      collect();
      if (!upgraded) probe.transport.onFrame("5");
      collect();
      rig.runFlushes();
      assert.equal(pending, null, "the poll was released");
      for (const frame of probe.peer.texts) if (frame.startsWith("4")) received.push(frame.slice(1));
      assert.deepEqual(received, sent, `round ${round}`);
      assert.deepEqual(rig.closes, []);
    }
  });

  test("upgrade timeout: the probe is dropped and the session stays on polling", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    assert.deepEqual(peer.texts, ["3probe"]);
    rig.clock.advance(301);
    assert.deepEqual(peer.closed, { code: 1000, reason: undefined });
    const socket = rig.socket(sid);
    assert.equal(socket.upgrading, false);
    assert.equal(socket.transportName, "polling");
    assert.equal(socket.readyState, "open");
    transport.onFrame("5"); // too late: ignored
    assert.equal(socket.transportName, "polling");
    // Polling works as before: a GET waits (no more noops), and receives messages.
    const get = await rig.get(sid);
    assert.equal(get.answered, false);
    rig.engine.send(sid, "still polling");
    rig.runFlushes();
    assert.equal(get.text, "4still polling");
    assert.deepEqual(rig.closes, []);
    // A new upgrade may be attempted and succeed.
    const second = await rig.probe(sid);
    second.transport.onFrame("2probe");
    second.transport.onFrame("5");
    assert.equal(socket.transportName, "websocket");
  });

  test("upgrade: 5 before 2probe, or any other frame on the probe, drops the probe only", async () => {
    for (const frame of ["5", "4hi", "2", "3probe", "9x"]) {
      const rig = new Rig();
      const { sid } = await rig.handshake();
      const { peer, transport } = await rig.probe(sid);
      transport.onFrame(frame);
      assert.ok(peer.closed, `probe closed after ${JSON.stringify(frame)}`);
      const socket = rig.socket(sid);
      assert.equal(socket.upgrading, false);
      assert.equal(socket.transportName, "polling");
      assert.equal(socket.readyState, "open");
      assert.deepEqual(rig.messages, []);
      assert.deepEqual(rig.closes, []);
    }
  });

  test("upgrade: the probe WebSocket closing early leaves the session on polling", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    transport.onClose();
    const socket = rig.socket(sid);
    assert.equal(socket.upgrading, false);
    assert.equal(socket.readyState, "open");
    const get = await rig.get(sid);
    assert.equal(get.answered, false, "no longer probed: the GET waits");
  });

  test("a second probe while one is in progress is closed after its handshake; allowUpgrades false refuses", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const first = await rig.probe(sid);
    const second = await rig.engine.prepareUpgrade(fakeRequest("GET", `${WS}&sid=${sid}`));
    assert.equal(second.ok, true);
    const secondPeer = new FakePeer();
    rig.engine.acceptWebSocket(second as Extract<UpgradeDecision, { ok: true }>, secondPeer);
    assert.ok(secondPeer.closed);
    assert.equal(first.peer.closed, null, "the first probe goes on");
    assert.equal(rig.socket(sid).upgrading, true);

    const noUpgrades = new Rig({ allowUpgrades: false });
    const s = await noUpgrades.handshake();
    const refused = await noUpgrades.engine.prepareUpgrade(fakeRequest("GET", `${WS}&sid=${s.sid}`));
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.deepEqual(JSON.parse(refused.body), errorBody(3, "Bad request"));
  });

  test("a session that ends while the upgrade handshake is in flight closes the late WebSocket", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const decision = await rig.engine.prepareUpgrade(fakeRequest("GET", `${WS}&sid=${sid}`));
    assert.equal(decision.ok, true);
    rig.socket(sid).abort("transport close");
    const peer = new FakePeer();
    rig.engine.acceptWebSocket(decision as Extract<UpgradeDecision, { ok: true }>, peer);
    assert.ok(peer.closed);
    assert.deepEqual(peer.frames, []);
  });

  test("closing a session during a probe not yet answered closes the probe, and the close goes over polling", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { peer } = await rig.probe(sid);
    rig.engine.send(sid, "bye");
    rig.socket(sid).close();
    assert.ok(peer.closed);
    assert.equal((await rig.get(sid)).text, "4bye");
    assert.equal((await rig.get(sid)).text, "1");
    assert.equal(rig.engine.sessions.get(sid), undefined);
  });

  test("closing a session whose probe was answered (the client is switching) finishes the upgrade, then closes on the WebSocket", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    rig.engine.send(sid, "bye");
    rig.socket(sid).close();
    assert.equal(peer.closed, null, "the probe stays for the upgrade");
    assert.equal(rig.socket(sid).readyState, "closing");
    transport.onFrame("5");
    assert.deepEqual(peer.texts, ["3probe", "4bye"]);
    assert.ok(peer.closed);
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.deepEqual(rig.closes, [[sid, "forced close"]]);
  });

  test("a switching client that never completes the upgrade: the upgrade timeout ends the session", async () => {
    const rig = new Rig();
    const { sid } = await rig.handshake();
    const { peer, transport } = await rig.probe(sid);
    transport.onFrame("2probe");
    rig.socket(sid).close();
    rig.clock.advance(rig.engine.options.upgradeTimeout + 1);
    assert.ok(peer.closed);
    // The client paused polling for the switch: no poll takes the CLOSE, the grace period ends it.
    rig.clock.advance(rig.engine.options.pingTimeout + 1);
    assert.equal(rig.engine.sessions.get(sid), undefined);
    assert.equal(rig.clock.timers.size, 0);
  });

  test("prepareUpgrade errors", async () => {
    const rig = new Rig({ cors: { origin: ["http://allowed.test"] } });
    const cases: Array<[string, Record<string, string>, number, { code: number; message: string }]> = [
      ["/socket.io/?EIO=3&transport=websocket", {}, 400, errorBody(5, "Unsupported protocol version")],
      ["/socket.io/?transport=websocket", {}, 400, errorBody(5, "Unsupported protocol version")],
      [POLL, {}, 400, errorBody(0, "Transport unknown")],
      [`${WS}&sid=nope`, {}, 400, errorBody(1, "Session ID unknown")],
      [WS, { Origin: "http://evil.test", Host: "app.test" }, 403, errorBody(4, "Forbidden")],
    ];
    for (const [url, headers, status, body] of cases) {
      const decision = await rig.engine.prepareUpgrade(fakeRequest("GET", url, headers));
      assert.equal(decision.ok, false, url);
      if (!decision.ok) {
        assert.equal(decision.status, status, url);
        assert.deepEqual(JSON.parse(decision.body), body, url);
        assert.equal(decision.headers["Content-Type"], "application/json");
      }
    }
    const allowed = await rig.engine.prepareUpgrade(fakeRequest("GET", WS, { Origin: "http://allowed.test", Host: "app.test" }));
    assert.equal(allowed.ok, true);
  });

  test("prepareUpgrade with cookie: the Set-Cookie header travels with the decision", async () => {
    const rig = new Rig({ cookie: true });
    const decision = await rig.engine.prepareUpgrade(fakeRequest("GET", WS));
    assert.equal(decision.ok, true);
    if (decision.ok) assert.equal(decision.headers["Set-Cookie"], `io=${decision.newSid}; Path=/; HttpOnly; SameSite=Lax`);
  });
});
