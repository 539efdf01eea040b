// Headless-browser test of the chat example (examples/chat): real Chromium, the
// real socket.io browser client served by the example, three pages in two rooms.
//
// Needs Chromium (Debian's /usr/bin/chromium, or $CHROMIUM_PATH). When it is
// missing the test fails; it never skips.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AddressInfo } from "node:net";
import type http from "node:http";
import type { Browser, Page } from "playwright-core";
import { createChatServer } from "../../examples/chat/server.js";
import type { Server } from "../../src/index.js";
import { launchChromium, requireChromium } from "../support/chromium.js";

const WAIT = { timeout: 10_000 };

const clientBundlePath = join(
  dirname(createRequire(import.meta.url).resolve("socket.io-client/package.json")),
  "dist",
  "socket.io.min.js",
);

/** Waits until `#status` reads "connected". */
async function waitConnected(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "connected", null, WAIT);
}

/** Waits until some `#messages li` has exactly this text. */
async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (expected) => Array.from(document.querySelectorAll("#messages li")).some((li) => li.textContent === expected),
    text,
    WAIT,
  );
}

async function messages(page: Page): Promise<string[]> {
  return page.$$eval("#messages li", (items) => items.map((li) => li.textContent ?? ""));
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill("#message", text, WAIT);
  await page.click("#send", WAIT);
}

describe("chat example in a headless browser", () => {
  let sio: Server | undefined;
  let httpServer: http.Server | undefined;
  let browser: Browser | undefined;
  let sioClosed = false;
  let baseUrl = "";
  const pageErrors: string[] = [];

  before(async () => {
    requireChromium();
    ({ sio, httpServer } = createChatServer());
    const server = httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      try {
        if (!sioClosed) await sio?.close();
      } finally {
        const server = httpServer;
        if (server?.listening) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }
    }
  });

  async function openChat(room: string, name: string): Promise<Page> {
    assert.ok(browser, "browser not started");
    const page = await browser.newPage();
    page.on("pageerror", (err) => pageErrors.push(`${room}/${name}: ${err.message}`));
    const response = await page.goto(`${baseUrl}/?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}`, WAIT);
    assert.equal(response?.status(), 200, "GET / should serve the chat page");
    return page;
  }

  it("serves the page and the official socket.io browser client", async () => {
    const page = await fetch(`${baseUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<ul id="messages">/);

    const client = await fetch(`${baseUrl}/socket.io.min.js`);
    assert.equal(client.status, 200);
    assert.match(client.headers.get("content-type") ?? "", /javascript/);
    assert.equal(await client.text(), readFileSync(clientBundlePath, "utf8"), "client bundle differs from socket.io-client's dist file");
  });

  it("delivers a message to everyone in the sender's room and nobody else", async () => {
    const alice = await openChat("red", "alice");
    const bob = await openChat("red", "bob");
    const carol = await openChat("blue", "carol");
    await Promise.all([waitConnected(alice), waitConnected(bob), waitConnected(carol)]);

    // The page runs the real client from /socket.io.min.js.
    for (const page of [alice, bob, carol]) {
      const kind = await page.evaluate(() => {
        const io = (window as unknown as { io?: { Manager?: unknown } }).io;
        return { io: typeof io, manager: typeof io?.Manager };
      });
      assert.deepEqual(kind, { io: "function", manager: "function" });
    }
    // ...and upgrades from polling to WebSocket (the example wires handler.upgrade).
    for (const page of [alice, bob, carol]) {
      await page.waitForFunction(
        () => (globalThis as unknown as { socket?: { io: { engine: { transport: { name: string } } } } }).socket?.io.engine.transport.name === "websocket",
        null,
        WAIT,
      );
    }

    await send(alice, "hello red");
    await waitForMessage(bob, "alice: hello red");
    await waitForMessage(alice, "alice: hello red");
    // The server also emits `reply` to the sender's sid only.
    await alice.waitForFunction(() => document.querySelector("#reply")?.textContent === "delivered to red: hello red", null, WAIT);

    // Carol (room "blue") sends and sees her own message; anything the server had
    // sent her for "red" would have arrived on her connection before that.
    await send(carol, "hello blue");
    await waitForMessage(carol, "carol: hello blue");
    assert.deepEqual(await messages(carol), ["carol: hello blue"]);
    await carol.waitForFunction(() => document.querySelector("#reply")?.textContent === "delivered to blue: hello blue", null, WAIT);

    // Same check the other way: bob's next message reaches alice after anything
    // sent to her before, so carol's message must not be in her list.
    await send(bob, "still red");
    await waitForMessage(alice, "bob: still red");
    await waitForMessage(bob, "bob: still red");
    assert.deepEqual(await messages(alice), ["alice: hello red", "bob: still red"]);
    assert.deepEqual(await messages(bob), ["alice: hello red", "bob: still red"]);
    await bob.waitForFunction(() => document.querySelector("#reply")?.textContent === "delivered to red: still red", null, WAIT);
    // Bob's reply went to bob only: alice's reply text is still her own.
    assert.equal(await alice.textContent("#reply"), "delivered to red: hello red");

    for (const page of [alice, bob, carol]) assert.equal(await page.textContent("#status"), "connected");
    assert.deepEqual(pageErrors, []);
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it("shows disconnected when the server goes away", async () => {
    const dave = await openChat("lobby", "dave");
    await waitConnected(dave);
    assert.ok(sio);
    sioClosed = true;
    await sio.close();
    await dave.waitForFunction(() => document.querySelector("#status")?.textContent === "disconnected", null, WAIT);
    await dave.close();
  });
});
