#!/usr/bin/env node
// `sockjet`: the command-line emitter. Publishes one operation to a sockjet cluster's broker and
// exits (status 0 when the broker took it, 1 when it did not or a call timed out, 2 on a usage
// error). In the repository: `node --import tsx src/cli.ts ...`; installed: `npx sockjet ...`.

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Emitter } from "./emitter/index.js";
import { Args, args as toArgs } from "./socket/args.js";

const USAGE = `usage:
  sockjet emit  BROKER [--channel C] [--namespace N] [--room R | --to SID]... [--skip SID]... [--spread] EVENT [JSON]
  sockjet call  BROKER [--channel C] [--namespace N] --to SID [--timeout MS] [--spread] EVENT [JSON]
  sockjet enter-room | leave-room  BROKER [--channel C] [--namespace N] SID ROOM
  sockjet close-room  BROKER [--channel C] [--namespace N] ROOM
  sockjet disconnect  BROKER [--channel C] [--namespace N] SID

BROKER is one of --redis URL, --amqp URL, --nats URL (add --sharded for Redis sharded pub/sub);
--connect-timeout MS bounds the wait for the broker (default 10000).
JSON is the event's single argument (omit it for none); with --spread it must be an array whose
items are sent as separate arguments. --channel defaults to "socketio" (the servers' default).
"call" prints the acknowledgement as JSON (an array when there are several values).
Put -- before positional arguments that start with a dash (a sid may): sockjet disconnect --redis URL -- -SID`;

class UsageError extends Error {}

const VALUE_OPTIONS = new Set(["--redis", "--amqp", "--nats", "--channel", "--namespace", "--room", "--to", "--skip", "--timeout", "--connect-timeout"]);

/**
 * Sids are base64url and may start with "-", which parseArgs would take for an option: the value
 * of an option that takes one is always the next argument, so it is joined to it (`--to=-abc`).
 */
function joinOptionValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (VALUE_OPTIONS.has(arg) && i + 1 < argv.length) out.push(`${arg}=${argv[++i]!}`);
    else out.push(arg);
  }
  return out;
}

function parseData(text: string | undefined, spread: boolean): unknown {
  if (text === undefined) {
    if (spread) throw new UsageError("--spread needs a JSON array");
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the data is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!spread) return value;
  if (!Array.isArray(value)) throw new UsageError("--spread needs a JSON array");
  return toArgs(...(value as unknown[]));
}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const processOutput: CliOutput = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

/** Runs the CLI and resolves with the exit status. */
export async function main(argv: string[], output: CliOutput = processOutput): Promise<number> {
  const { out, err: printError } = output;
  let parsed;
  try {
    parsed = parseArgs({
      args: joinOptionValues(argv),
      allowPositionals: true,
      options: {
        redis: { type: "string" },
        amqp: { type: "string" },
        nats: { type: "string" },
        sharded: { type: "boolean" },
        channel: { type: "string" },
        namespace: { type: "string" },
        room: { type: "string", multiple: true },
        to: { type: "string", multiple: true },
        skip: { type: "string", multiple: true },
        timeout: { type: "string" },
        "connect-timeout": { type: "string" },
        spread: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    printError(`sockjet: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }

  let emitter: Emitter | null = null;
  try {
    const brokers = [values.redis, values.amqp, values.nats].filter((u): u is string => u !== undefined);
    if (brokers.length !== 1) throw new UsageError("give exactly one of --redis, --amqp, --nats");
    const namespace = values.namespace ?? "/";
    const targets = [...(values.room ?? []), ...(values.to ?? [])];
    const need = (n: number, names: string) => {
      if (rest.length !== n) throw new UsageError(`${command} needs ${names}`);
    };
    let run: (e: Emitter) => Promise<void>;
    switch (command) {
      case "emit": {
        if (rest.length < 1 || rest.length > 2) throw new UsageError("emit needs EVENT [JSON]");
        const data = parseData(rest[1], values.spread === true);
        run = (e) => e.emit(rest[0]!, data, { to: targets, skipSid: values.skip ?? [], namespace });
        break;
      }
      case "call": {
        if (rest.length < 1 || rest.length > 2) throw new UsageError("call needs EVENT [JSON]");
        if (values.to?.length !== 1 || values.room !== undefined) throw new UsageError("call needs exactly one --to SID");
        const timeout = values.timeout === undefined ? 60_000 : Number(values.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError("--timeout must be a positive number of ms");
        const data = parseData(rest[1], values.spread === true);
        run = async (e) => {
          const reply = await e.call(rest[0]!, data, { to: values.to![0]!, namespace, timeout });
          out(JSON.stringify(reply instanceof Args ? reply.values : (reply ?? null)));
        };
        break;
      }
      case "enter-room":
        need(2, "SID ROOM");
        run = (e) => e.enterRoom(rest[0]!, rest[1]!, namespace);
        break;
      case "leave-room":
        need(2, "SID ROOM");
        run = (e) => e.leaveRoom(rest[0]!, rest[1]!, namespace);
        break;
      case "close-room":
        need(1, "ROOM");
        run = (e) => e.closeRoom(rest[0]!, namespace);
        break;
      case "disconnect":
        need(1, "SID");
        run = (e) => e.disconnect(rest[0]!, namespace);
        break;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
    const connectTimeout = values["connect-timeout"] === undefined ? 10_000 : Number(values["connect-timeout"]);
    if (!Number.isFinite(connectTimeout) || connectTimeout <= 0) throw new UsageError("--connect-timeout must be a positive number of ms");
    emitter = new Emitter({
      url: brokers[0]!,
      connectTimeout,
      ...(values.channel !== undefined ? { channel: values.channel } : {}),
      ...(values.sharded ? { sharded: true } : {}),
    });
    await run(emitter);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      printError(`sockjet: ${err.message}\n${USAGE}`);
      return 2;
    }
    printError(`sockjet: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await emitter?.close().catch(() => {});
  }
}

function isEntryPoint(): boolean {
  const invoked = process.argv[1];
  if (invoked === undefined) return false;
  try {
    // npm's bin shim is a symlink: compare real paths.
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
