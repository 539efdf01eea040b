// Several arguments in one value. python-socketio sends a tuple as several arguments and anything
// else as one; JavaScript arrays are ordinary data, so multiple arguments are marked explicitly:
//   sio.emit("move", args(x, y))        -> the client's handler receives (x, y)
//   return args("ok", result)           -> the client's ack callback receives ("ok", result)
//   const reply = await sio.call(...)   -> several ack arguments come back as Args

export class Args<T extends readonly unknown[] = unknown[]> {
  readonly values: T;
  constructor(values: T) {
    this.values = values;
  }
}

export function args<T extends readonly unknown[]>(...values: T): Args<T> {
  return new Args(values);
}

/** The wire argument list for a data value: undefined → none, Args → spread, anything else → one. */
export function toArgList(data: unknown): unknown[] {
  if (data === undefined) return [];
  if (data instanceof Args) return [...data.values];
  return [data];
}

/** The value a list of received ack arguments is returned as (python-socketio's `call` convention). */
export function fromArgList(list: readonly unknown[]): unknown {
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return new Args([...list]);
}
