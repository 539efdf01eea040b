// One HTTP/1.1 request over node:http, on its own connection: the status, headers and body bytes
// exactly as the server sent them (no decompression). The raw engine tests (test/engine/raw-client.ts,
// as `raw`) and the conformance tests (test/conformance/wire.ts) both use it.

import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One HTTP/1.1 request on its own connection. Rejects if the connection ends without a response. */
export function http(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
        res.on("aborted", () => reject(new Error("response aborted")));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
