// The load generator process of a scale session (see ./sessions.ts). Runs one session against one
// server process, prints one line
//   RESULT {"session": ..., "figures": {...}, "errors": [...]}
// and stays alive with its connections open until it is killed (the runner stops the server first,
// as bench/load/main.ts explains).
//
//   node --import tsx bench/scale/load.ts --session ws --port 8000 --pid 1234 --params '{...ScaleParams}' [--exit]

import { createContext } from "../load/scenarios.js";
import { SESSIONS, runSession, type SessionName } from "./sessions.js";
import type { ScaleParams } from "./params.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const session = option("session") as SessionName | undefined;
if (session === undefined || !SESSIONS.includes(session)) {
  console.error(`--session must be one of ${SESSIONS.join(", ")}`);
  process.exit(2);
}
const sp = JSON.parse(option("params") ?? "{}") as ScaleParams;
const pidText = option("pid");
const ctx = createContext(
  { host: option("host") ?? "127.0.0.1", port: Number(option("port")), pid: pidText === undefined ? null : Number(pidText) },
  { concurrency: sp.concurrency, gcWaitMs: sp.gcWaitMs, timeoutMs: sp.timeoutMs, verify: false },
);

try {
  const result = await runSession(ctx, session, sp);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stdout.write(`RESULT ${JSON.stringify({ session, figures: {}, errors: [message, ...ctx.errors()] })}\n`);
}
if (process.argv.includes("--exit")) {
  ctx.close();
  process.exit(0);
}
setInterval(() => undefined, 1 << 30);
