// Where a failing handler's error goes: the client gets only the generic refusal, so with the
// default `logger` the error is written to stderr (one JSON line with the error's message and
// stack), `logger: false` writes nothing, and `logger: true` writes it among the other levels.
// Each server runs in a child process (test/support/logging-child.ts) so that its stderr is its own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("../support/logging-child.ts", import.meta.url));
const MARKER = "connect-handler-marker-5b2e";

function run(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, mode], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON lines of stderr (other lines, e.g. runtime warnings, are left out). */
function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("default logger: a connect handler's error is written to stderr (message and stack); the client sees only the generic refusal", async () => {
  const { code, stdout, stderr } = await run("default");
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { clientSaw: "Connection rejected by server" });
  const lines = jsonLines(stderr);
  assert.equal(lines.length, 1, stderr);
  const [line] = lines as [Record<string, unknown>];
  assert.equal(line.level, "error");
  assert.equal(line.msg, "connect handler failed; refusing the connection");
  const err = line.err as { message: string; stack: string };
  assert.equal(err.message, MARKER);
  assert.match(err.stack, /logging-child\.ts/);
});

test("logger: false writes nothing, not even the error", async () => {
  const { code, stdout, stderr } = await run("false");
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { clientSaw: "Connection rejected by server" });
  assert.deepEqual(jsonLines(stderr), []);
});

test("logger: true writes the error among the other levels", async () => {
  const { code, stderr } = await run("true");
  assert.equal(code, 0, stderr);
  const lines = jsonLines(stderr);
  assert.ok(lines.some((line) => line.level === "error" && (line.err as { message?: string }).message === MARKER), stderr);
  assert.ok(lines.some((line) => line.level === "debug"), "debug lines too");
});
