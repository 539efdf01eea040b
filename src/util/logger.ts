// Logging is silent by default. `logger: true` writes one JSON object per line to stderr; any object
// with these four methods (console, pino, winston...) can be passed instead.

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

export function resolveLogger(option: boolean | Logger | undefined): Logger {
  if (option === undefined || option === false) return silentLogger;
  if (option === true) return jsonLogger();
  return option;
}
