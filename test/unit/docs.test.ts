// Keeps the documentation and the code in agreement: every error code, engine error, disconnect
// reason and engine close reason that the code can produce is documented (docs/server-api.md), and
// nothing documented is gone. And keeps the pages joined: every relative link of README.md and
// docs/**/*.md reaches a file, and every #anchor a heading of its page, so moving a section cannot
// leave a dead link behind.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DISCONNECT_REASONS, SOCKJET_ERROR_CODES } from "../../src/index.js";
import { ENGINE_ERROR_MESSAGES, engineErrorStatus, type EngineErrorCode } from "../../src/engine/protocol/errors.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const serverApi = readFileSync(join(ROOT, "docs/server-api.md"), "utf8");

/** The rows of the markdown table that follows a heading of docs/server-api.md. */
function tableAfter(heading: string, occurrence = 0): string[][] {
  const start = serverApi.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `docs/server-api.md has a "${heading}" section`);
  const lines = serverApi.slice(start + 1).split("\n");
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

/** README.md and every .md file under docs/, as paths relative to the repository. */
function markdownFiles(): string[] {
  const found = ["README.md"];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const path = `${dir}/${name}`;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found;
}

/** The lines of a markdown text outside fenced code blocks. */
function proseLines(text: string): string[] {
  let fence: string | null = null;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === null || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence === null) out.push(line);
  }
  return out;
}

/** GitHub's anchor for a heading: its text without markup, lower-cased, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML tags
    .replace(/[`*]/g, "") // code and emphasis markers (underscores are kept, as GitHub does)
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor GitHub gives the headings of a markdown text (repeats get -1, -2, ...). */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = githubSlug(heading[1]!);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The targets of the inline links and images of a markdown text, outside code. */
function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, ""); // inline code is not a link
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
  }
  return targets;
}

test("GitHub's heading anchors, as the link check computes them", () => {
  assert.equal(githubSlug("Scale-out: several servers as one"), "scale-out-several-servers-as-one");
  assert.equal(githubSlug("Beside another app, with static files (python-socketio's WSGIApp)"), "beside-another-app-with-static-files-python-socketios-wsgiapp");
  assert.equal(githubSlug("Engine.IO"), "engineio");
  assert.equal(githubSlug("`sio.instrument()` and the `auth` option"), "sioinstrument-and-the-auth-option");
  assert.equal(githubSlug("Mixed rooms: Engine.IO v3 and v4 clients in one broadcast"), "mixed-rooms-engineio-v3-and-v4-clients-in-one-broadcast");
  assert.deepEqual([...anchorsOf("# A\n\n## A\n\n```sh\n# not a heading\n```\n### A\n")], ["a", "a-1", "a-2"]);
  assert.deepEqual(linkTargets("[x](a.md#b) `[y](not.md)` ![i](img.svg \"t\")\n```\n[z](code.md)\n```\n"), ["a.md#b", "img.svg"]);
});

test("every relative link of README.md and docs/ reaches a file, and every #anchor a heading of it", () => {
  const files = markdownFiles();
  assert.ok(files.includes("docs/server-api.md"), "the docs pages are found");
  const anchors = new Map<string, Set<string>>();
  const anchorsIn = (path: string): Set<string> => {
    let found = anchors.get(path);
    if (!found) anchors.set(path, (found = anchorsOf(readFileSync(join(ROOT, path), "utf8"))));
    return found;
  };
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const target of linkTargets(readFileSync(join(ROOT, file), "utf8"))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
      checked++;
      const hash = target.indexOf("#");
      const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
      const resolved = pathPart === "" ? file : relative(ROOT, join(ROOT, dirname(file), pathPart));
      if (resolved.startsWith("..") || !existsSync(join(ROOT, resolved))) {
        broken.push(`${file}: ${target} (no file ${resolved})`);
        continue;
      }
      if (anchor === null || anchor === "") continue;
      if (!resolved.endsWith(".md")) broken.push(`${file}: ${target} (an anchor into a file that is not markdown)`);
      else if (!anchorsIn(resolved).has(anchor)) broken.push(`${file}: ${target} (no heading "#${anchor}" in ${resolved})`);
    }
  }
  assert.ok(checked > 50, `links checked: ${checked}`);
  assert.deepEqual(broken, []);
});
