// By default only errors are logged, as JSON lines on stderr: a failing handler or hook is answered
// with a generic message (its text never reaches the client), so the log is the only place it shows
// (python-socketio likewise logs errors "even when logger is False"). `logger: true` logs every
// level; `logger: false` nothing at all; any object with these four methods (console, pino,
// winston...) can be passed instead.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

function serializeError(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

export function jsonLogger(write: (line: string) => void = (line) => process.stderr.write(line + "\n")): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message, name: "sockjet" };
    if (fields) for (const key of Object.keys(fields)) entry[key] = serializeError(fields[key]);
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ time: entry.time, level, msg: message, name: "sockjet", note: "fields not serializable" });
    }
    write(line);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** The default: error lines only (JSON on stderr), everything else dropped. */
export function errorLogger(write?: (line: string) => void): Logger {
  return { debug: noop, info: noop, warn: noop, error: jsonLogger(write).error };
}

let defaultLogger: Logger | null = null;

export function resolveLogger(option: boolean | Logger | undefined): Logger {
  if (option === undefined) return (defaultLogger ??= errorLogger());
  if (option === false) return silentLogger;
  if (option === true) return jsonLogger();
  return option;
}
