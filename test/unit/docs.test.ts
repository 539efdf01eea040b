// Keeps the README and the code in agreement: every error code, engine error, disconnect reason
// and engine close reason that the code can produce is documented, and nothing documented is gone.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DISCONNECT_REASONS, SOCKJET_ERROR_CODES } from "../../src/index.js";
import { ENGINE_ERROR_MESSAGES, engineErrorStatus, type EngineErrorCode } from "../../src/engine/protocol/errors.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The rows of the markdown table that follows a heading. */
function tableAfter(heading: string, occurrence = 0): string[][] {
  const start = readme.indexOf(heading);
  assert.notEqual(start, -1, `README has a "${heading}" section`);
  const lines = readme.slice(start).split("\n");
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of lines.slice(1)) {
    if (line.startsWith("## ")) break;
    if (line.startsWith("|")) {
      if (current === null) tables.push((current = []));
      if (!/^\|[-| ]+\|$/.test(line)) current.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
    } else current = null;
  }
  const table = tables[occurrence];
  assert.ok(table, `table ${occurrence} after "${heading}"`);
  return table.slice(1); // without the header row
}

const unquote = (cell: string) => cell.replace(/^[`"]+|[`"]+$/g, "");

test("every SockjetError code is documented, and only those", () => {
  const documented = tableAfter("## Errors", 0).map((row) => unquote(row[0]!));
  assert.deepEqual([...documented].sort(), [...SOCKJET_ERROR_CODES].sort());
});

test("every Engine.IO error code is documented with its status and message", () => {
  const rows = tableAfter("## Errors", 1);
  const codes = Object.keys(ENGINE_ERROR_MESSAGES).map(Number) as EngineErrorCode[];
  assert.equal(rows.length, codes.length);
  for (const code of codes) {
    const row = rows.find((r) => r[0] === String(code));
    assert.ok(row, `engine error ${code} documented`);
    assert.equal(row[1], String(engineErrorStatus(code)));
    assert.equal(unquote(row[2]!), ENGINE_ERROR_MESSAGES[code]);
  }
});

test("every disconnect reason is documented, and only those", () => {
  const documented = tableAfter("## Disconnect reasons").map((row) => unquote(row[0]!));
  assert.deepEqual([...documented].sort(), [...DISCONNECT_REASONS].sort());
});

test("the README's test command is npm test and CI runs exactly it", () => {
  assert.match(readme, /npm install && npm test/);
  const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
  assert.match(ci, /^npm test$/m);
});
