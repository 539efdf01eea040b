// Static files beside the Socket.IO endpoint, as python-socketio's WSGIApp/ASGIApp `static_files`:
// a map from URL path to a file, a directory, or `{ filename, contentType }`.

import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

export type StaticTarget = string | { filename: string; contentType?: string };
export type StaticFiles = Record<string, StaticTarget>;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Resolves a URL path to a file on disk, or null. Longest matching prefix wins; no escaping a directory. */
export function resolveStatic(files: StaticFiles, urlPath: string): { filename: string; contentType: string } | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes("\0")) return null;
  const prefixes = Object.keys(files).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    const target = files[prefix]!;
    const filename = typeof target === "string" ? target : target.filename;
    const explicitType = typeof target === "string" ? undefined : target.contentType;
    let candidate: string | null = null;
    if (path === prefix) {
      candidate = isDirectory(filename) ? join(filename, "index.html") : filename;
    } else if (path.startsWith(prefix.endsWith("/") ? prefix : prefix + "/") && isDirectory(filename)) {
      const root = resolve(filename);
      const rest = normalize(path.slice(prefix.length)).replace(/^([/\\])+/, "");
      const full = resolve(root, rest);
      if (full !== root && !full.startsWith(root + sep)) return null;
      candidate = isDirectory(full) ? join(full, "index.html") : full;
    }
    if (candidate !== null && isFile(candidate)) {
      return { filename: candidate, contentType: explicitType ?? TYPES[extname(candidate).toLowerCase()] ?? "application/octet-stream" };
    }
  }
  return null;
}

/** Serves a GET/HEAD for a static file; false when the URL is not in the map. */
export function serveStatic(files: StaticFiles, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const found = resolveStatic(files, q === -1 ? url : url.slice(0, q));
  if (found === null) return false;
  res.writeHead(200, { "Content-Type": found.contentType });
  if (req.method === "HEAD") {
    res.end();
    return true;
  }
  createReadStream(found.filename)
    .on("error", () => res.destroy())
    .pipe(res);
  return true;
}
