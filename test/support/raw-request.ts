// Requests written byte for byte on a TCP socket, for probes that must reach the server exactly as
// written: fetch and node:http's client normalise or refuse request targets such as
// `/static/../x` or `/static/..\x`, which is what a hostile client need not do.

import { connect } from "node:net";

export interface RawHttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body, de-chunked when the response was chunked. */
  body: string;
}

/**
 * Sends `<method> <target> HTTP/1.1` with `Connection: close` to `url`'s host and port, the target
 * unaltered, and reads the response until the server closes the connection.
 */
export function rawRequest(url: string, target: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawHttpResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      let head = `${options.method ?? "GET"} ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`;
      for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
      socket.write(head + "\r\n");
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Parses one HTTP/1.1 response: status line, headers, then the body (Content-Length, chunked, or to the end). */
export function parseResponse(bytes: Buffer): RawHttpResponse {
  const split = bytes.indexOf("\r\n\r\n");
  if (split === -1) throw new Error(`not an HTTP response: ${JSON.stringify(bytes.toString("latin1").slice(0, 200))}`);
  const [statusLine, ...lines] = bytes.subarray(0, split).toString("latin1").split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = bytes.subarray(split + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const out: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf("\r\n");
      if (eol === -1) break;
      const size = parseInt(rest.subarray(0, eol).toString("latin1"), 16);
      if (!(size > 0)) break;
      out.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
    rest = Buffer.concat(out);
  } else if (headers["content-length"] !== undefined) {
    rest = rest.subarray(0, Number(headers["content-length"]));
  }
  return { status: Number(match[1]), headers, body: rest.toString("utf8") };
}

/**
 * Path-traversal probes for a static mount (`/static`) whose directory has `relative` (e.g.
 * `../app.ts`, `../../../../package.json`) outside it: the path as is, with `.`, `/` and `\`
 * percent-encoded once and twice, with backslashes for slashes, with an extra `./` segment, and
 * glued to the mount without its slash (a prefix match without a boundary would take those).
 * `absolute`: the target's absolute path, which must not be reachable under the mount either.
 */
export function traversalProbes(mount: string, relative: string, absolute?: string): string[] {
  const dots = (s: string, by: string) => s.split("..").join(by);
  const slashes = (s: string, by: string) => s.split("/").join(by);
  const variants = [
    relative,
    dots(relative, "%2e%2e"),
    dots(relative, "%2E%2E"),
    dots(relative, ".%2e"),
    slashes(relative, "%2f"),
    slashes(relative, "%2F"),
    slashes(dots(relative, "%2e%2e"), "%2f"),
    slashes(relative, "\\"),
    slashes(relative, "%5c"),
    slashes(dots(relative, "%2e%2e"), "%5c"),
    dots(relative, "%252e%252e"),
    slashes(relative, "%252f"),
    slashes(dots(relative, "%252e%252e"), "%252f"),
    "./" + relative,
    ".%2f" + slashes(relative, "%2f"),
  ];
  const probes = variants.map((variant) => `${mount}/${variant}`);
  probes.push(`${mount}${relative}`, `${mount}${slashes(relative, "%2f")}`, `${mount}%2f${relative}`);
  if (absolute !== undefined) probes.push(`${mount}/${encodeURIComponent(absolute)}`, `${mount}/${absolute}`, `${mount}/${slashes(absolute, "\\")}`);
  return probes;
}
