// Typed events: `new Server<ListenEvents, EmitEvents>()`. The type-level checks below are compiled
// by `tsc -p tsconfig.json --noEmit` (part of `npm test`): each `@ts-expect-error` line must fail to
// type-check, so a regression that makes the types too loose fails compilation ("Unused
// '@ts-expect-error' directive"), and one that makes them too strict fails on the valid lines.
// The runtime part round-trips every typed event with the official client over each transport.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { io, type Socket as ClientSocket } from "socket.io-client";
import { MODES, TRANSPORT_MODES, waitConnect, waitUpgrade, type TransportMode } from "../support/harness.js";
import { Server, args, type Args, type DisconnectReason, type Environ, type EventData } from "../../src/index.js";

interface User {
  name: string;
  age: number;
}

/** Client → server events. */
type ListenEvents = {
  "chat message": [text: string];
  move: [x: number, y: number];
  ping: [];
  profile: [user: User];
};

/** Server → client events. */
type EmitEvents = {
  reply: [text: string];
  moved: [x: number, y: number];
  tick: [];
  profile: [user: User];
};

// The same maps from the client's point of view (socket.io-client's function-signature style).
interface ClientListen {
  reply: (text: string) => void;
  moved: (x: number, y: number) => void;
  tick: () => void;
  profile: (user: User) => void;
}
interface ClientEmit {
  "chat message": (text: string, ack: (length: number) => void) => void;
  move: (x: number, y: number) => void;
  ping: () => void;
  profile: (user: User) => void;
}

// ---- type level (never called; checked by tsc) ---------------------------------------------------

function typeLevelChecks(sio: Server<ListenEvents, EmitEvents>): void {
  // Handlers get typed arguments.
  sio.on("chat message", (sid, text) => {
    const s: string = sid;
    const t: string = text;
    // @ts-expect-error text is a string
    const n: number = text;
    return [s, t, n];
  });
  sio.on("move", (_sid, x, y) => {
    const sum: number = x + y;
    return sum;
  });
  sio.on("profile", (_sid, user) => user.name.length + user.age);
  sio.on("ping", (sid) => sid);
  // @ts-expect-error a handler's parameters must match the event's arguments
  sio.on("move", (_sid: string, x: string) => x);
  // @ts-expect-error a handler's parameters must match the event's arguments
  sio.on("profile", (_sid: string, user: { name: number }) => user);
  // @ts-expect-error not a client → server event
  sio.on("reply", () => {});
  // @ts-expect-error unknown event
  sio.on("no such event", () => {});
  sio.on("connect", (sid, environ, auth) => {
    const e: Environ = environ;
    return [sid, e, auth];
  });
  sio.on("disconnect", (_sid, reason) => {
    const r: DisconnectReason = reason;
    return r;
  });

  // emit requires the right data: one value, args(...) for several, nothing for none.
  void sio.emit("reply", "hi");
  void sio.emit("reply", "hi", { to: "sid", skipSid: ["a"] });
  // @ts-expect-error wrong data type
  void sio.emit("reply", 42);
  // @ts-expect-error data is required
  void sio.emit("reply");
  void sio.emit("moved", args(1, 2));
  // @ts-expect-error several arguments go in args(...)
  void sio.emit("moved", 1);
  // @ts-expect-error wrong type inside args(...)
  void sio.emit("moved", args(1, "2"));
  // @ts-expect-error too few arguments inside args(...)
  void sio.emit("moved", args(1));
  void sio.emit("tick");
  void sio.emit("tick", undefined, { room: "r" });
  // @ts-expect-error tick carries no data
  void sio.emit("tick", "x");
  void sio.emit("profile", { name: "ann", age: 3 });
  // @ts-expect-error a property is missing
  void sio.emit("profile", { name: "ann" });
  // @ts-expect-error not a server → client event
  void sio.emit("chat message", "x");
  // @ts-expect-error unknown option
  void sio.emit("reply", "x", { too: "sid" });

  // The scoped namespace API is typed the same way.
  const ns = sio.of("/typed");
  void ns.emit("reply", "x", { to: "sid" });
  // @ts-expect-error wrong data type
  void ns.emit("reply", 1);
  // @ts-expect-error scoped options have no namespace
  void ns.emit("reply", "x", { namespace: "/other" });
  ns.on("move", (_sid, x, y) => {
    const product: number = x * y;
    // @ts-expect-error x is a number
    const text: string = x;
    return [product, text];
  });
  // @ts-expect-error a typed namespace refuses a handler with the wrong argument types
  ns.on("move", (_sid: string, x: boolean) => x);
  // @ts-expect-error and an event the map does not have
  ns.on("no such event", () => {});

  // call checks the event name.
  void sio.call("reply", "x", { to: "sid" });
  // @ts-expect-error unknown event
  void sio.call("nope", "x", { to: "sid" });

  // EventData: the single `data` value of an event.
  const none: EventData<[]> = undefined;
  const one: EventData<[string]> = "x";
  const two: EventData<[number, string]> = args(1, "a");
  // @ts-expect-error two arguments are Args, not a tuple
  const tuple: EventData<[number, string]> = [1, "a"];
  const typedArgs: Args<[number, string]> = two;
  void [none, one, typedArgs, tuple];

  // An untyped server accepts anything.
  const loose = new Server();
  loose.on("anything", (_sid: string, a: number, b: string) => a + b);
  void loose.emit("anything", args(1, 2, 3));
  void loose.emit("anything");
}
void typeLevelChecks;

// ---- runtime round trip ----------------------------------------------------------------------------

for (const mode of MODES) {
  describe(`typed events over ${mode}`, () => {
    let sio: Server<ListenEvents, EmitEvents>;
    let url: string;
    const clients: ClientSocket[] = [];
    const received: Array<[string, ...unknown[]]> = [];

    async function connect(m: TransportMode): Promise<ClientSocket<ClientListen, ClientEmit>> {
      const socket: ClientSocket<ClientListen, ClientEmit> = io(url, { forceNew: true, reconnection: false, ...TRANSPORT_MODES[m] });
      clients.push(socket as unknown as ClientSocket);
      await waitConnect(socket as unknown as ClientSocket);
      if (m === "polling+upgrade") await waitUpgrade(socket as unknown as ClientSocket);
      return socket;
    }

    before(async () => {
      sio = new Server<ListenEvents, EmitEvents>();
      sio.on("chat message", async (sid, text) => {
        received.push(["chat message", text]);
        await sio.emit("reply", text.toUpperCase(), { to: sid });
        return text.length;
      });
      sio.on("move", (sid, x, y) => {
        received.push(["move", x, y]);
        return sio.emit("moved", args(x + 1, y * 2), { to: sid });
      });
      sio.on("ping", (sid, ...rest: unknown[]) => {
        received.push(["ping", ...rest]);
        return sio.emit("tick", undefined, { to: sid });
      });
      sio.on("profile", (sid, user) => sio.emit("profile", { name: user.name.toUpperCase(), age: user.age + 1 }, { to: sid }));
      const http = await sio.listen(0, "127.0.0.1");
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });

    after(async () => {
      for (const c of clients) c.disconnect();
      await sio.close();
    });

    test("every typed event round-trips with its arguments", async () => {
      const c = await connect(mode);
      const reply = new Promise<string>((resolve) => c.once("reply", resolve));
      const length = new Promise<number>((resolve) => c.emit("chat message", "typed hello", resolve));
      assert.equal(await reply, "TYPED HELLO");
      assert.equal(await length, 11);

      const moved = new Promise<[number, number]>((resolve) => c.once("moved", (x, y) => resolve([x, y])));
      c.emit("move", 2, 5);
      assert.deepEqual(await moved, [3, 10]);

      const tick = new Promise<number>((resolve) => c.once("tick", (...a: unknown[]) => resolve(a.length)));
      c.emit("ping");
      assert.equal(await tick, 0);

      const profile = new Promise<User>((resolve) => c.once("profile", resolve));
      c.emit("profile", { name: "ann", age: 41 });
      assert.deepEqual(await profile, { name: "ANN", age: 42 });

      assert.deepEqual(received.slice(-3), [["chat message", "typed hello"], ["move", 2, 5], ["ping"]]);
    });
  });
}
