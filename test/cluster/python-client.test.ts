// python-socketio's client (socketio.Client, Debian's python3-socketio) against a sockjet server,
// beside the python-socketio worker interop of the cluster scenarios: a connect handler's events to
// its own sid arrive after the namespace's CONNECT, whether the handler is async and awaits them
// (or not) or is synchronous; over long-polling, WebSocket, and polling with an upgrade.
// (The official JavaScript clients: test/e2e/connect-emit.test.ts.)
//
// The Python client needs python3-requests (long-polling) and python3-websocket (WebSocket) beside
// python3-socketio; without them the test fails, saying what to install (as the worker test does).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { run } from "../support/cluster-process.js";
import { PYTHON } from "../support/cluster-scenarios.js";
import { startServer, type TestServer } from "../support/harness.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const MODULES = "socketio, requests, websocket";

/** Fails, saying what to install, unless python-socketio's client and its transports can be imported. */
async function requirePythonClient(): Promise<void> {
  if (existsSync(PYTHON) && (await run(PYTHON, ["-c", `import ${MODULES}`])).code === 0) return;
  throw new Error(
    `python-socketio's client is not importable by ${PYTHON}: apt-get install -y python3-socketio python3-requests python3-websocket, ` +
      "or set PYTHON to a python that has socketio, requests and websocket-client",
  );
}

/** Socket.IO packet types as python-socketio numbers them. */
const CONNECT = 0;
const EVENT = 2;

interface Report {
  ok: boolean;
  transport: string;
  /** Packets in arrival order: [type, namespace, event name or null]. */
  wire: Array<[number, string, string | null]>;
  /** Handler calls: [namespace, "connect" | "welcome", data, the client's sid then]. */
  handled: Array<[string, string, { sid: string; step: string } | null, string | null]>;
}

const ROOT_STEPS = ["unawaited", "awaited", "after a turn"];
const SYNC_STEPS = ["sync"];

describe("python-socketio client: a connect handler's emits to its sid follow CONNECT", () => {
  let ts: TestServer;

  before(async () => {
    await requirePythonClient();
    ts = await startServer({ allowEIO3: true }, (sio) => {
      sio.on("connect", async (sid: string) => {
        void sio.emit("welcome", { sid, step: ROOT_STEPS[0] }, { to: sid });
        await sio.emit("welcome", { sid, step: ROOT_STEPS[1] }, { to: sid });
        await tick();
        await sio.emit("welcome", { sid, step: ROOT_STEPS[2] }, { to: sid });
      });
      sio.on(
        "connect",
        (sid: string) => {
          void sio.emit("welcome", { sid, step: SYNC_STEPS[0] }, { to: sid, namespace: "/sync" });
        },
        "/sync",
      );
    });
  });

  after(async () => {
    await ts?.close();
  });

  for (const transports of ["polling", "websocket", "polling,websocket"]) {
    test(`over ${transports}`, async () => {
      const expected = ROOT_STEPS.length + SYNC_STEPS.length;
      const r = await run(PYTHON, ["test/cluster/fixtures/python_client.py", ts.url, transports, String(expected)]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Report;
      assert.equal(report.ok, true, `every welcome arrived: ${r.stdout}`);
      assert.equal(report.transport, transports === "polling" ? "polling" : "websocket");

      for (const [namespace, steps] of [["/", ROOT_STEPS], ["/sync", SYNC_STEPS]] as const) {
        // On the wire: the namespace's CONNECT, then its welcomes.
        const arrived = report.wire.filter(([type, ns]) => ns === namespace && (type === CONNECT || type === EVENT));
        assert.deepEqual(arrived, [[CONNECT, namespace, null], ...steps.map(() => [EVENT, namespace, "welcome"])], `${namespace}: ${JSON.stringify(report.wire)}`);
        // Every handler ran, and each welcome carried the sid the client got with CONNECT. (Which
        // handler runs first is up to python-socketio's threads: the wire order above is the check.)
        const calls = report.handled.filter(([ns]) => ns === namespace);
        const sid = calls.find(([, event]) => event === "connect")?.[3];
        assert.ok(sid, `${namespace} connected`);
        const welcomes = calls.filter(([, event]) => event === "welcome");
        assert.deepEqual(welcomes.map(([, , data]) => data?.step).sort(), [...steps].sort());
        for (const [, , data] of welcomes) assert.equal(data?.sid, sid);
      }
    });
  }
});
