// The no-sticky layer's wire format and its liveness bookkeeping, without a broker or a clock
// (src/manager/nosticky/wire.ts, peers.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeWire, encodeWire, splitFrames } from "../../src/manager/nosticky/wire.js";
import { PeerLinks, type Lease } from "../../src/manager/nosticky/peers.js";

test("a message and its body round-trip; the body's bytes are kept as they are", () => {
  const body = new Uint8Array([0, 255, 10, 13, 0x34]);
  const encoded = encodeWire({ t: "req", f: "AAAAAAAA", id: "7", m: "POST", u: "/socket.io/?sid=x", h: { "content-type": "text/plain" }, a: "::1", s: false }, body);
  const decoded = decodeWire(encoded);
  assert.ok(decoded !== null);
  assert.deepEqual(decoded.message, { t: "req", f: "AAAAAAAA", id: "7", m: "POST", u: "/socket.io/?sid=x", h: { "content-type": "text/plain" }, a: "::1", s: false });
  assert.deepEqual([...decoded.body], [...body]);
});

test("frames of one write: text and binary, split back in order", () => {
  const frames = ["4hello", new Uint8Array([1, 2, 3]), "", "4é"];
  const lengths: Array<[number, 0 | 1]> = [
    [6, 0],
    [3, 1],
    [0, 0],
    [3, 0],
  ];
  const decoded = decodeWire(encodeWire({ t: "wsout", f: "BBBBBBBB", id: "1", fl: lengths }, frames as Array<string | Uint8Array>));
  assert.ok(decoded !== null);
  const split = splitFrames(decoded.body, lengths);
  assert.deepEqual(split?.map((f) => (typeof f === "string" ? f : [...f])), ["4hello", [1, 2, 3], "", "4é"]);
  // Lengths that do not add up are refused, not guessed.
  assert.equal(splitFrames(decoded.body, [[6, 0]]), null);
  assert.equal(splitFrames(decoded.body, [[100, 0]]), null);
  assert.equal(splitFrames(decoded.body, [[-1, 0]]), null);
});

test("anything else is not a message", () => {
  assert.equal(decodeWire(new Uint8Array(0)), null);
  assert.equal(decodeWire(new TextEncoder().encode('{"type":"emit"}')), null);
  const good = encodeWire({ t: "ping", f: "CCCCCCCC" });
  assert.equal(decodeWire(good.subarray(0, good.length - 2)), null, "a cut header");
  const bad = good.slice();
  bad[7] = 0x7b + 1;
  assert.equal(decodeWire(bad), null, "a header that is not JSON");
  assert.equal(decodeWire(encodeWire({ t: "ping" } as never)), null, "no sender");
});

class Clock {
  now = 0;
  read = () => this.now;
}

function lease(): Lease & { lost: number } {
  return {
    lost: 0,
    onPeerLost() {
      this.lost++;
    },
  };
}

test("a silent server is pinged after the interval and declared lost after the timeout; every lease on it is told once", () => {
  const clock = new Clock();
  const pinged: string[] = [];
  const lost: Array<[string, number]> = [];
  const links = new PeerLinks((node) => pinged.push(node), 100, 500, (node, leases) => lost.push([node, leases]), clock.read);
  const a = lease();
  const b = lease();
  links.acquire("owner", a);
  links.acquire("owner", b);
  const check = () => (links as unknown as { check(): void }).check();
  clock.now = 50;
  check();
  assert.deepEqual(pinged, []);
  clock.now = 120;
  check();
  assert.deepEqual(pinged, ["owner"]);
  clock.now = 150;
  check();
  assert.deepEqual(pinged, ["owner"], "one ping per interval");
  clock.now = 499;
  check();
  assert.equal(a.lost, 0);
  clock.now = 500;
  check();
  assert.deepEqual([a.lost, b.lost], [1, 1]);
  assert.deepEqual(lost, [["owner", 2]]);
  assert.equal(links.isLost("owner"), true);
  clock.now = 2000;
  check();
  assert.deepEqual([a.lost, b.lost], [1, 1], "told once");
});

test("any message is a sign of life; released leases stop the watch; a server heard again is no longer lost", () => {
  const clock = new Clock();
  const links = new PeerLinks(() => {}, 100, 500, () => {}, clock.read);
  const check = () => (links as unknown as { check(): void }).check();
  const a = lease();
  links.acquire("front", a);
  for (clock.now = 0; clock.now < 3000; clock.now += 100) {
    links.heard("front");
    check();
  }
  assert.equal(a.lost, 0, "heard all along");
  links.release("front", a);
  assert.equal(links.leasesOn("front"), 0);
  clock.now = 10_000;
  check();
  assert.equal(links.isLost("front"), false, "nothing waits on it: not watched");
  // A new wait starts with a full grace period.
  const b = lease();
  links.acquire("front", b);
  clock.now = 10_400;
  check();
  assert.equal(b.lost, 0);
  links.declareLost("front");
  assert.equal(b.lost, 1);
  links.heard("front");
  assert.equal(links.isLost("front"), false);
});

test("time this process did not run is not the other server's silence; silence while it runs still counts", () => {
  const clock = new Clock();
  const links = new PeerLinks(() => {}, 100, 500, () => {}, clock.read);
  const a = lease();
  links.acquire("owner", a);
  // The timer runs every 50 ms; then it runs 2 s late (a busy event loop): what the owner sent
  // meanwhile is still unread, so it is not declared gone.
  for (clock.now = 0; clock.now <= 200; clock.now += 50) links.tick();
  clock.now = 2200;
  links.tick();
  assert.equal(a.lost, 0, "not declared gone on this process's own delay");
  assert.equal(links.isLost("owner"), false);
  // From then on, on time and still silent: gone once the timeout has passed in time that ran.
  // Silent 250 ms of running time before the stall (counting its expected 50), 200 after it so far.
  for (clock.now = 2250; clock.now < 2450; clock.now += 50) links.tick();
  assert.equal(a.lost, 0);
  for (; clock.now <= 2800; clock.now += 50) links.tick();
  assert.equal(a.lost, 1, "silence while running is counted");
  assert.equal(links.isLost("owner"), true);
});
