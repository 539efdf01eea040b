// Headless Chromium for the browser tests, driven by playwright-core: Debian's /usr/bin/chromium, or
// $CHROMIUM_PATH. When it is missing the tests fail, saying what to install; they never skip.

import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Throws, saying what to install, when there is no Chromium at CHROMIUM_PATH. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH} (CI=${process.env.CI ?? "unset"}); ` +
        "install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH",
    );
  }
}

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}
