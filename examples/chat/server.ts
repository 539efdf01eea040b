// Chat example: python-socketio's "Getting Started" server, translated to sockjet.
//
//   npm start                 # listens on $PORT (default 8000)
//   open http://localhost:8000/?room=lobby&name=alice
//   ADMIN_PASSWORD_HASH="$(npx bcrypt 'a password' 10)" npm start   # and the Admin UI at /admin/
//
// A `/chat` namespace with a `connect` handler that logs the sid and environ and
// puts the client in the room it asked for (auth: { room, name }), an async
// `chat message` handler that broadcasts to the sender's room and sends a `reply`
// to the sender's sid, and a `disconnect` handler.
import http from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Server, type Environ } from "../../src/index.js";

const NAMESPACE = "/chat";
const DEFAULT_ROOM = "lobby";
const DEFAULT_NAME = "anonymous";

const exampleDir = dirname(fileURLToPath(import.meta.url));
// dist/socket.io.min.js is not in socket.io-client's "exports", so locate the
// package through its package.json (which is exported) and go from there.
const clientBundle = join(
  dirname(createRequire(import.meta.url).resolve("socket.io-client/package.json")),
  "dist",
  "socket.io.min.js",
);

interface Member {
  name: string;
  room: string;
}

/** Takes a client-supplied value, keeps it only if it is a short non-empty string. */
function cleanString(value: unknown, fallback: string): string {
  if (typeof value !== "string") return fallback;
  const trimmed = value.trim().slice(0, 64);
  return trimmed === "" ? fallback : trimmed;
}

/** The printable part of the environ (`raw` is the whole IncomingMessage). */
function describeEnviron(environ: Environ): Record<string, unknown> {
  return {
    remoteAddress: environ.remoteAddress,
    transport: environ.transport,
    url: environ.url,
    userAgent: environ.headers["user-agent"],
  };
}

export function createChatServer(): { sio: Server; httpServer: http.Server } {
  const sio = new Server();
  const members = new Map<string, Member>();

  sio.on(
    "connect",
    async (sid: string, environ: Environ, auth: unknown) => {
      const fields = auth !== null && typeof auth === "object" ? (auth as Record<string, unknown>) : {};
      const member: Member = {
        room: cleanString(fields.room, DEFAULT_ROOM),
        name: cleanString(fields.name, DEFAULT_NAME),
      };
      console.log("connect", sid, describeEnviron(environ));
      members.set(sid, member);
      await sio.enterRoom(sid, member.room, NAMESPACE);
    },
    NAMESPACE,
  );

  sio.on(
    "chat message",
    async (sid: string, data: unknown) => {
      const member = members.get(sid);
      if (member === undefined) return;
      const raw = data !== null && typeof data === "object" ? (data as Record<string, unknown>).text : data;
      const text = typeof raw === "string" ? raw.trim().slice(0, 2000) : "";
      if (text === "") return;
      console.log("message", sid, member.room, text);
      await sio.emit("chat message", { name: member.name, room: member.room, text }, { room: member.room, namespace: NAMESPACE });
      await sio.emit("reply", { text, room: member.room }, { to: sid, namespace: NAMESPACE });
    },
    NAMESPACE,
  );

  sio.on(
    "disconnect",
    (sid: string, reason: string) => {
      console.log("disconnect", sid, reason);
      members.delete(sid);
    },
    NAMESPACE,
  );

  const handler = sio.handler(undefined, {
    staticFiles: {
      "/": join(exampleDir, "index.html"),
      "/socket.io.min.js": clientBundle,
    },
  });
  const httpServer = http.createServer(handler);
  httpServer.on("upgrade", handler.upgrade); // WebSocket transport
  return { sio, httpServer };
}

const argv1 = process.argv[1];
if (argv1 !== undefined && import.meta.url === pathToFileURL(argv1).href) {
  const port = Number(process.env.PORT ?? 8000);
  const { sio, httpServer } = createChatServer();
  // The Admin UI at /admin/ (docs/admin-ui.md) when a password hash is given:
  //   ADMIN_PASSWORD_HASH="$(npx bcrypt 'a password' 10)" npm start
  const adminHash = process.env.ADMIN_PASSWORD_HASH;
  if (adminHash !== undefined) sio.instrument({ auth: { type: "basic", username: "admin", password: adminHash }, serveUi: "/admin" });
  httpServer.listen(port, () => {
    console.log(`chat example listening on http://localhost:${port}/`);
    if (adminHash !== undefined) console.log(`Admin UI on http://localhost:${port}/admin/ (user admin)`);
  });
  const shutdown = (): void => {
    void sio.close().finally(() => {
      httpServer.closeAllConnections();
      httpServer.close();
      process.exit(0);
    });
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
