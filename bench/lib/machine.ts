// What every benchmark report says about the machine and the packages it measured.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { ROOT_DIR } from "./processes.js";

/** The installed version of a package of this repository ("?" when it cannot be read). */
export function packageVersion(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT_DIR, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** The CPU's model name: /proc/cpuinfo's, which names the machine better than os.cpus() on Linux. */
export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match) return match[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown CPU";
}
