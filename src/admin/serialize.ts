// A socket as the Admin UI shows it (@socket.io/admin-ui's `serialize`): its ids, transport,
// namespace, session data, handshake and rooms.

import type { NamespaceSocket } from "../socket/client.js";

export interface SerializedSocket {
  id: string;
  /** The connection's id, cut to 12 characters as @socket.io/admin-ui does: the full Engine.IO sid is the session's credential on long-polling. */
  clientId: string;
  transport: "polling" | "websocket";
  nsp: string;
  /** The socket's session (sockjet's counterpart of socket.data), as far as JSON can carry it. */
  data: unknown;
  handshake: {
    address: string;
    headers: Record<string, string>;
    query: Record<string, string>;
    issued: number;
    secure: boolean;
    time: string;
    url: string;
    xdomain: boolean;
  };
  rooms: string[];
}

export function clientIdOf(socket: NamespaceSocket): string {
  return socket.client.engine.id.slice(0, 12);
}

/** `connectedAt`: when the socket joined its namespace (ms), when known. */
export function serializeSocket(socket: NamespaceSocket, rooms: string[], connectedAt: number | undefined): SerializedSocket {
  const environ = socket.client.environFor(socket.namespace);
  const headers = environ.headers;
  const issued = connectedAt ?? 0;
  return {
    id: socket.sid,
    clientId: clientIdOf(socket),
    transport: socket.client.engine.transportName,
    nsp: socket.namespace,
    data: jsonCopy(socket.session),
    handshake: {
      address: headers["cf-connecting-ip"] ?? headers["x-forwarded-for"] ?? environ.remoteAddress,
      headers,
      query: environ.query,
      issued,
      secure: environ.secure,
      time: issued === 0 ? "" : new Date(issued).toString(),
      url: environ.url,
      xdomain: headers.origin !== undefined,
    },
    rooms,
  };
}

/** The session as JSON carries it; {} when it cannot be (a cycle, a BigInt): the rest of the socket still shows. */
function jsonCopy(session: object | null): unknown {
  if (session === null) return {};
  try {
    return JSON.parse(JSON.stringify(session)) as unknown;
  } catch {
    return {};
  }
}
