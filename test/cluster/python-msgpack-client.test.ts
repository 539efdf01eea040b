// python-socketio's client with serializer='msgpack' (Debian's python3-socketio and python3-msgpack)
// against a sockjet server with parser: "msgpack": acks both ways and binary both ways, over
// long-polling, WebSocket, and polling with an upgrade. (The official JavaScript client with
// socket.io-msgpack-parser: test/e2e/msgpack.test.ts.)

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { run } from "../support/cluster-process.js";
import { PYTHON } from "../support/cluster-scenarios.js";
import { startServer, type TestServer } from "../support/harness.js";

const MODULES = "socketio, msgpack, requests, websocket";

/** Fails, saying what to install, unless python-socketio's client, msgpack and the transports can be imported. */
async function requirePythonClient(): Promise<void> {
  if (existsSync(PYTHON) && (await run(PYTHON, ["-c", `import ${MODULES}`])).code === 0) return;
  throw new Error(
    `python-socketio's msgpack client is not importable by ${PYTHON}: apt-get install -y python3-socketio python3-msgpack python3-requests python3-websocket, ` +
      "or set PYTHON to a python that has socketio, msgpack, requests and websocket-client",
  );
}

interface Report {
  echo: unknown;
  ask: unknown;
  question: unknown;
  push: unknown;
  pushed: boolean;
  transport: string;
}

describe("python-socketio client with serializer='msgpack'", () => {
  let ts: TestServer;

  before(async () => {
    await requirePythonClient();
    ts = await startServer({ parser: "msgpack" }, (sio) => {
      sio.on("echo", (_sid: string, data: unknown) => data);
      sio.on("ask", async (sid: string) => {
        const answer = await sio.call("question", { q: Buffer.from([5, 6]) }, { to: sid, timeout: 20_000 });
        await sio.emit("push", { raw: Buffer.from([1, 2, 3]) }, { to: sid });
        return answer;
      });
    });
  });

  after(async () => {
    await ts?.close();
  });

  for (const transports of ["polling", "websocket", "polling,websocket"]) {
    test(`over ${transports}`, async () => {
      const r = await run(PYTHON, ["test/cluster/fixtures/python_msgpack_client.py", ts.url, transports]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Report;
      assert.deepEqual(report.echo, { n: 1, blob: { bytes: [0, 1, 255] } });
      assert.deepEqual(report.question, { q: { bytes: [5, 6] } });
      assert.deepEqual(report.ask, { answer: { bytes: [7, 8] } });
      assert.equal(report.pushed, true);
      assert.deepEqual(report.push, { raw: { bytes: [1, 2, 3] } });
      assert.equal(report.transport, transports === "polling" ? "polling" : "websocket");
    });
  }
});
