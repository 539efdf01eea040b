// The real Socket.IO Admin UI (@socket.io/admin-ui's built page, served by sockjet with
// instrument({ serveUi: "/admin" })) in headless Chromium, watching the chat example
// (examples/chat) with three official socket.io-client v4 clients in two rooms: it logs in with
// basic auth, sees the clients and their rooms, and disconnects one, whose server-side disconnect
// handler then runs.
//
// ADMIN_UI_SCREENSHOTS=docs/images makes it save the documentation's screenshots
// (admin-ui-*.png) there; without it nothing is written.
//
// Needs Chromium (Debian's /usr/bin/chromium, or $CHROMIUM_PATH). When it is missing the test
// fails; it never skips.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type http from "node:http";
import bcrypt from "bcryptjs";
import { io, type Socket as ClientSocket } from "socket.io-client";
import type { Browser, Page } from "playwright-core";
import { createChatServer } from "../../examples/chat/server.js";
import { Server } from "../../src/index.js";
import { launchChromium, requireChromium } from "../support/chromium.js";
import { deferred, waitConnect } from "../support/harness.js";
import { within } from "../e2e/_util.js";

const WAIT = { timeout: 20_000 };
const SCREENSHOTS = process.env.ADMIN_UI_SCREENSHOTS;
/** Debian's fonts-materialdesignicons-webfont, when installed: the page's icon font, which it loads from a CDN. */
const MDI = "/usr/share/fonts-materialdesignicons-webfont";

/**
 * The page asks two CDNs for Roboto and the icon font; this machine reaches neither. Those requests
 * are answered at once (the icon font from Debian's package when it is there, for the screenshots),
 * so that the page does not wait on them. Nothing else leaves the test's server.
 */
async function routeCdns(page: Page): Promise<void> {
  await page.route(/^https:\/\/(fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net)\//, async (route) => {
    const url = route.request().url();
    if (url.includes("materialdesignicons") && existsSync(MDI)) {
      if (url.endsWith(".css")) {
        const css = readFileSync(join(MDI, "css", "materialdesignicons.min.css"), "utf8");
        return route.fulfill({ contentType: "text/css", body: css });
      }
      const font = /materialdesignicons-webfont\.(woff2|woff|ttf)/.exec(url);
      if (font) return route.fulfill({ contentType: "font/" + font[1], body: readFileSync(join(MDI, "fonts", "materialdesignicons-webfont." + font[1])) });
    }
    return route.abort();
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  // For the picture only (nothing is asserted on it): the charts' drawing animation ends.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(SCREENSHOTS, `admin-ui-${name}.png`) });
}

/** Screenshot mode: the page's CSS transitions off, so that no picture catches one half-way. */
async function stillPictures(page: Page): Promise<void> {
  await page.addInitScript(() => {
    document.addEventListener("DOMContentLoaded", () => {
      const style = document.createElement("style");
      style.textContent = "*, *::before, *::after { transition: none !important; animation: none !important; }";
      document.head.appendChild(style);
    });
  });
}

/** Waits until the page's main area shows every one of these texts. */
async function waitForTexts(page: Page, texts: string[]): Promise<void> {
  await page.waitForFunction((wanted) => {
    const text = document.querySelector("main")?.textContent ?? "";
    return wanted.every((t) => text.includes(t));
  }, texts, WAIT);
}

describe("the Admin UI in a headless browser, served by sockjet, watching the chat example", () => {
  let sio: Server | undefined;
  let httpServer: http.Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let baseUrl = "";
  const clients: ClientSocket[] = [];
  const disconnected = new Map<string, ReturnType<typeof deferred<string>>>();
  const pageErrors: string[] = [];

  before(async () => {
    requireChromium();
    ({ sio, httpServer } = createChatServer());
    // The example's own disconnect handler still runs; the test learns that it did, and why.
    const chat = sio.of("/chat");
    const handler = chat.handler("disconnect")!;
    chat.on("disconnect", async (sid: string, reason) => {
      await handler(sid, reason);
      disconnected.get(sid)?.resolve(reason);
    });
    sio.instrument({
      auth: { type: "basic", username: "admin", password: bcrypt.hashSync("chat-admin", 4) },
      serveUi: "/admin",
      serverId: "chat-demo",
    });
    const server = httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [name, room, transports] of [
      ["alice", "lobby", ["websocket"]],
      ["bob", "lobby", ["polling"]],
      ["carol", "kitchen", ["websocket"]],
    ] as const) {
      const client = io(baseUrl + "/chat", { auth: { name, room }, transports: [...transports], forceNew: true, reconnection: false });
      clients.push(client);
      await within(waitConnect(client), 20_000, `${name}'s connect`);
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await routeCdns(page);
    if (SCREENSHOTS !== undefined) await stillPictures(page);
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      for (const client of clients) client.disconnect();
      await sio?.close();
      httpServer?.closeAllConnections();
      await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
    }
  });

  it("opens the served page with this server's URL already in the login form, and logs in", async () => {
    await page.goto(baseUrl + "/admin/", WAIT);
    const serverUrl = page.locator(".v-dialog form input").first();
    await page.waitForFunction((url) => (document.querySelector(".v-dialog form input") as HTMLInputElement | null)?.value === url, baseUrl, WAIT);
    assert.equal(await serverUrl.inputValue(), baseUrl);
    await page.locator(".v-dialog form input[type=text]").nth(1).fill("admin", WAIT);
    await screenshot(page, "login");
    await page.locator(".v-dialog form input[type=password]").fill("wrong password", WAIT);
    await page.locator(".v-dialog form button[type=submit]").click(WAIT);
    await page.waitForFunction(() => document.querySelector(".v-dialog form")?.textContent?.includes("Invalid credentials") === true, null, WAIT);
    await page.locator(".v-dialog form input[type=password]").fill("chat-admin", WAIT);
    await page.locator(".v-dialog form button[type=submit]").click(WAIT);
    await page.locator(".v-dialog form").waitFor({ state: "hidden", ...WAIT });
    // The dashboard: this server's stats (its id comes with them) and the namespaces with their sockets.
    await waitForTexts(page, ["/chat", "/admin"]);
    await page.waitForFunction(() => /\/chat\s*3/.test(document.querySelector("main")?.textContent ?? ""), null, WAIT);
    await screenshot(page, "dashboard");
    await page.goto(baseUrl + "/admin/#/servers/", WAIT);
    await waitForTexts(page, ["chat-demo"]);
  });

  it("sees the clients and their rooms", async () => {
    const [alice, bob, carol] = clients as [ClientSocket, ClientSocket, ClientSocket];
    await page.goto(baseUrl + "/admin/#/rooms/", WAIT);
    // The rooms page shows the selected namespace; the UI selects the first it learnt of.
    await page.locator("main .v-select").first().click(WAIT);
    await page.locator(".v-menu__content .v-list-item", { hasText: "/chat" }).click(WAIT);
    await waitForTexts(page, ["lobby", "kitchen"]);
    await page.goto(baseUrl + "/admin/#/sockets/", WAIT);
    await waitForTexts(page, [alice.id!, bob.id!, carol.id!]);
    await screenshot(page, "sockets");
    await page.goto(baseUrl + `/admin/#/n/${encodeURIComponent("/chat")}/sockets/${carol.id}`, WAIT);
    await waitForTexts(page, [carol.id!, "kitchen", "/chat"]);
    await screenshot(page, "socket");
    await page.goto(baseUrl + `/admin/#/n/${encodeURIComponent("/chat")}/rooms/lobby`, WAIT);
    await waitForTexts(page, [alice.id!, bob.id!]);
    // Carol is not in the lobby (the previous page may still be leaving the DOM: waited for).
    await page.waitForFunction((id) => !(document.querySelector("main")?.textContent ?? "").includes(id), carol.id!, WAIT);
    await screenshot(page, "room");
  });

  it("disconnects a client from the UI; its server-side disconnect handler runs", async () => {
    const bob = clients[1]!;
    const bobId = bob.id!;
    const serverSide = deferred<string>();
    disconnected.set(bobId, serverSide);
    const clientSide = new Promise<string>((resolve) => bob.once("disconnect", resolve));
    await page.goto(baseUrl + "/admin/#/sockets/", WAIT);
    await waitForTexts(page, [bobId]);
    // The row's disconnect button (the socket's, not the whole client's); the click also opens the row.
    await page.locator("main tr", { hasText: bobId }).locator("button:has(.mdi-logout)").click(WAIT);
    assert.equal(await within(serverSide.promise, 20_000, "the chat's disconnect handler"), "server disconnect");
    assert.equal(await within(clientSide, 20_000, "bob's disconnect"), "io server disconnect");
    await page.goto(baseUrl + "/admin/#/sockets/", WAIT);
    await waitForTexts(page, [clients[0]!.id!, clients[2]!.id!]);
    await page.waitForFunction((id) => !(document.querySelector("main")?.textContent ?? "").includes(id), bobId, WAIT);
    assert.ok(clients[0]!.connected && clients[2]!.connected, "the others stay");
    assert.deepEqual(pageErrors, []);
  });
});

describe("the unmodified UI page on another origin, as the hosted admin.socket.io is", () => {
  let pageServer: http.Server | undefined;
  const servers: Server[] = [];
  let browser: Browser | undefined;
  let pageOrigin = "";
  const clients: ClientSocket[] = [];

  /** An instrumented sockjet server with one client; `cors` as given. */
  async function watched(options: ConstructorParameters<typeof Server>[0]): Promise<{ url: string; client: ClientSocket }> {
    const sio = new Server(options);
    servers.push(sio);
    sio.instrument({ auth: { type: "basic", username: "admin", password: bcrypt.hashSync("s3cret", 4) }, serverId: "elsewhere" });
    const http = await sio.listen(0, "127.0.0.1");
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const client = io(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    clients.push(client);
    await within(waitConnect(client), 20_000, "the watched client's connect");
    return { url, client };
  }

  async function logIn(url: string): Promise<Page> {
    const page = await (await browser!.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
    await routeCdns(page);
    await page.goto(pageOrigin + "/", WAIT);
    const inputs = page.locator(".v-dialog form input");
    await inputs.first().waitFor(WAIT);
    assert.equal(await inputs.first().inputValue(), "", "the unmodified page knows no server");
    await inputs.first().fill(url, WAIT);
    await page.locator(".v-dialog form input[type=text]").nth(1).fill("admin", WAIT);
    await page.locator(".v-dialog form input[type=password]").fill("s3cret", WAIT);
    await page.locator(".v-dialog form button[type=submit]").click(WAIT);
    return page;
  }

  before(async () => {
    requireChromium();
    const { createServer } = await import("node:http");
    const { serveStatic } = await import("../../src/runtime/static.js");
    const { defaultUiDirectory } = await import("../../src/admin/ui.js");
    const files = { "/": defaultUiDirectory() };
    const server = (pageServer = createServer((req, res) => {
      if (!serveStatic(files, req, res)) res.writeHead(404).end();
    }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    // "localhost" and "127.0.0.1" are two origins: the page is cross-origin to every server below.
    pageOrigin = `http://localhost:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      for (const client of clients) client.disconnect();
      for (const sio of servers) await sio.close();
      pageServer?.closeAllConnections();
      await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
    }
  });

  it("connects when the server's cors allows the page's origin with credentials", async () => {
    const { url } = await watched({ cors: { origin: [pageOrigin], credentials: true } });
    const page = await logIn(url);
    await page.locator(".v-dialog form").waitFor({ state: "hidden", ...WAIT });
    await waitForTexts(page, ["/admin"]);
    await page.waitForFunction(() => /\/\s*1/.test(document.querySelector("main")?.textContent ?? ""), null, WAIT);
  });

  it("is refused by the default same-origin cors", async () => {
    const { url } = await watched({});
    const page = await logIn(url);
    await page.waitForFunction(() => /Error/.test(document.querySelector(".v-dialog form")?.textContent ?? ""), null, WAIT);
    // The browser refused the answer to the first long-poll (no CORS headers for that origin).
    assert.match((await page.locator(".v-dialog form").textContent()) ?? "", /Error: xhr poll error/);
  });
});

describe("the UI served by one server of a cluster (two servers, in-memory broker) shows and acts on both", () => {
  const servers: Server[] = [];
  const clients: ClientSocket[] = [];
  const disconnected = new Map<string, ReturnType<typeof deferred<string>>>();
  let browser: Browser | undefined;
  let page: Page;
  const urls: string[] = [];

  before(async () => {
    requireChromium();
    const { InMemoryBroker, PubSubManager } = await import("../../src/manager/pubsub/index.js");
    const broker = new InMemoryBroker();
    const password = bcrypt.hashSync("s3cret", 4);
    for (const serverId of ["server-1", "server-2"]) {
      const sio = new Server({ clientManager: new PubSubManager({ driver: broker.driver() }) });
      servers.push(sio);
      sio.on("connect", (sid: string, _environ, auth) => sio.enterRoom(sid, String((auth as { room?: unknown }).room)));
      sio.on("disconnect", (sid: string, reason) => disconnected.get(sid)?.resolve(reason));
      sio.instrument({ auth: { type: "basic", username: "admin", password }, serverId, ...(serverId === "server-1" ? { serveUi: "/admin" } : {}) });
      const http = await sio.listen(0, "127.0.0.1");
      urls.push(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
    }
    for (const [server, room] of [[0, "red"], [0, "blue"], [1, "blue"]] as const) {
      const client = io(urls[server]!, { auth: { room }, transports: ["websocket"], forceNew: true, reconnection: false });
      clients.push(client);
      await within(waitConnect(client), 20_000, "a client's connect");
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await routeCdns(page);
    if (SCREENSHOTS !== undefined) await stillPictures(page);
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      for (const client of clients) client.disconnect();
      for (const sio of servers) await sio.close();
    }
  });

  it("lists both servers, the sockets of both with their rooms, and disconnects the other server's client", async () => {
    await page.goto(urls[0] + "/admin/", WAIT);
    await page.waitForFunction((url) => (document.querySelector(".v-dialog form input") as HTMLInputElement | null)?.value === url, urls[0], WAIT);
    await page.locator(".v-dialog form input[type=text]").nth(1).fill("admin", WAIT);
    await page.locator(".v-dialog form input[type=password]").fill("s3cret", WAIT);
    await page.locator(".v-dialog form button[type=submit]").click(WAIT);
    await page.locator(".v-dialog form").waitFor({ state: "hidden", ...WAIT });
    await page.goto(urls[0] + "/admin/#/servers/", WAIT);
    await waitForTexts(page, ["server-1", "server-2"]);
    await screenshot(page, "servers");
    const [red, blue1, blue2] = clients as [ClientSocket, ClientSocket, ClientSocket];
    await page.goto(urls[0] + `/admin/#/n/${encodeURIComponent("/")}/rooms/blue`, WAIT);
    await waitForTexts(page, [blue1.id!, blue2.id!]);
    await page.waitForFunction((id) => !(document.querySelector("main")?.textContent ?? "").includes(id), red.id!, WAIT);
    await page.goto(urls[0] + "/admin/#/sockets/", WAIT);
    await waitForTexts(page, [red.id!, blue1.id!, blue2.id!]);

    const serverSide = deferred<string>();
    disconnected.set(blue2.id!, serverSide);
    await page.locator("main tr", { hasText: blue2.id! }).locator("button:has(.mdi-logout)").click(WAIT);
    assert.equal(await within(serverSide.promise, 20_000, "server-2's disconnect handler"), "server disconnect");
    assert.ok(red.connected && blue1.connected, "server-1's clients stay");
  });
});

describe("the served page with auth: false", () => {
  let sio: Server | undefined;
  let browser: Browser | undefined;
  let client: ClientSocket | undefined;

  after(async () => {
    try {
      await browser?.close();
    } finally {
      client?.disconnect();
      await sio?.close();
    }
  });

  it("connects to its server on the first visit with nothing typed", async () => {
    requireChromium();
    sio = new Server();
    sio.instrument({ auth: false, serveUi: "/admin", serverId: "open" });
    const http = await sio.listen(0, "127.0.0.1");
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    client = io(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    await within(waitConnect(client), 20_000, "the client's connect");
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await routeCdns(page);
    await page.goto(url + "/admin/#/sockets/", WAIT);
    await waitForTexts(page, [client.id!]);
    assert.equal(await page.locator(".v-dialog form").isVisible(), false, "no login form");
  });
});
