// No sticky sessions over RabbitMQ (AMQP_URL): three server processes behind a round-robin proxy, 150
// clients of three kinds chatting, a server killed mid-run (test/support/nosticky-scenario.ts).
// npm test runs a short slice (4 s of chat, 2 s around the kill with the python clients paused, 3 s after); `npm run
// cluster:no-sticky` runs the issue's 30 s.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runNoSticky } from "../../support/nosticky-scenario.js";

test("no sticky sessions over RabbitMQ: 50 v4 polling, 50 v4 polling+upgrade, 50 python-socketio polling clients; a server killed mid-run", async (t) => {
  const report = await runNoSticky({ name: "RabbitMQ", url: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672", chatSeconds: 4, killSeconds: 2, afterSeconds: 3, pythonChatsThroughKill: false });
  // Late deliveries, and messages missed across a reconnect (with the disconnects), are in the report.
  t.diagnostic(JSON.stringify(report));
  assert.deepEqual(report.failures, [], JSON.stringify(report));
});
