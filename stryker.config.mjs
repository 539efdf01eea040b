// Mutation testing of the security-relevant modules (issue 11): `npm run mutate`.
// Results and the survivors' explanations: docs/reliability/mutation.md.
//
// The TAP runner runs each test file as its own `node --import tsx <file>` process (node:test prints
// TAP when stdout is not a TTY) and records which mutants each file reaches, so a mutant is tested
// only by the files that execute it ("perTest" coverage at file granularity).
//
// Only unit-level test files are listed: each is one short process with no server fixture or
// client. The first run with the engine, e2e and conformance suites as well (a few seconds per file
// on this loaded 2-core machine, and every surviving mutant runs every file that reaches it) was
// estimated by Stryker at 15 hours for 2,415 mutants. So the engine tests (test/engine: CORS and
// limits over real HTTP and WebSocket), the e2e client suites, the conformance suites, the
// framework integrations, the Bun and Deno fixtures (child processes the coverage hook cannot see),
// the cluster suites (brokers), the browser suite and the benches are not used here: a mutant they
// would kill but the unit tests do not is reported as surviving.

import { readFileSync } from "node:fs";

/**
 * `path:from-to` for the method or function whose first line contains `marker`, through its closing
 * brace at the same indentation: the limit checks move as the modules around them change, so the
 * lines are found afresh on every run rather than written down.
 */
function linesOf(path, marker) {
  const lines = readFileSync(path, "utf8").split("\n");
  const from = lines.findIndex((line) => line.includes(marker));
  if (from === -1) throw new Error(`stryker.config.mjs: "${marker}" not found in ${path}`);
  const indent = /^\s*/.exec(lines[from])[0];
  const to = lines.findIndex((line, i) => i > from && line === `${indent}}`);
  if (to === -1) throw new Error(`stryker.config.mjs: end of "${marker}" not found in ${path}`);
  return `${path}:${from + 1}-${to + 1}`;
}

/** Each entry: a module, or the part of a module that enforces a limit. */
const mutate = [
  // origin policy
  "src/engine/cors.ts",
  // body and frame limits: query and header parsing, the body readers of the Node and fetch
  // runtimes, the POST path that applies maxHttpBufferSize and maxPayloadPackets with the body
  // framings, the WebSocket frame size check, and the server's own frame builder
  "src/engine/http.ts",
  linesOf("src/runtime/node.ts", "readBody(limit: number)"),
  linesOf("src/runtime/fetch.ts", "async readBody(limit: number)"),
  linesOf("src/engine/transports/polling.ts", "async onPost(exchange"),
  "src/engine/transports/polling-framing.ts",
  linesOf("src/engine/transports/websocket.ts", "onFrame(frame: string | Uint8Array)"),
  "src/runtime/ws-frame.ts",
  // decoders
  "src/engine/protocol/*.ts",
  "src/socket/protocol/*.ts",
  // static files
  "src/runtime/static.ts",
  // restricted pickle decoder
  "src/manager/pickle.ts",
];

const only = process.env.MUTATE_ONLY;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "tap",
  plugins: ["@stryker-mutator/tap-runner"],
  tap: {
    testFiles: [
      "test/unit/engine-protocol.test.ts",
      "test/unit/engine-protocol-v3.test.ts",
      "test/unit/socket-protocol.test.ts",
      "test/unit/ws-frame.test.ts",
      // written against the survivors of the first run (docs/reliability/mutation.md)
      "test/unit/cors-policy.test.ts",
      "test/unit/http-request.test.ts",
      "test/unit/pickle-opcodes.test.ts",
      "test/unit/static-resolve.test.ts",
      "test/unit/polling-bodies.test.ts",
      "test/unit/websocket-frames.test.ts",
      "test/unit/payload-lengths-v3.test.ts",
      "test/unit/msgpack-protocol.test.ts",
      // the Node runtime's body reader over a real in-process http server (raw TCP, no client)
      "test/unit/node-bodies.test.ts",
      "test/cluster/codecs.test.ts",
    ],
    nodeArgs: ["--import", "tsx"],
  },
  coverageAnalysis: "perTest",
  // `MUTATE_ONLY=src/engine/cors.ts npm run mutate` tries one module.
  mutate: only ? only.split(",") : mutate,
  // Two shared cores.
  concurrency: 2,
  // A busy machine: a slow test file is not a timeout.
  timeoutMS: 10000,
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  ignorePatterns: ["bench/results", "reports", "coverage", "dist", ".scratch", "test/browser", "test/integrations/fixtures"],
  // Stryker rewrites the tsconfig's relative paths in the sandbox through the TypeScript compiler
  // API, which TypeScript 7 (the native compiler) no longer has. Ours has no `extends` or
  // `references` to rewrite, so the step is skipped by naming a file that does not exist.
  tsconfigFile: "tsconfig.stryker-skip.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
