// Figures read from outside the server process: CPU time from /proc/<pid>/stat (utime + stime, in
// clock ticks, all threads of the process) and resident memory from /proc/<pid>/status (VmRSS).

import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let clockTicks: number | null = null;

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on nearly every Linux). */
export function clkTck(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) the process has used so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clkTck();
}

/** Resident set size of the process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Whether /proc figures are available for this pid (Linux only). */
export function procAvailable(pid: number): boolean {
  try {
    cpuMicros(pid);
    rssBytes(pid);
    return true;
  } catch {
    return false;
  }
}

/**
 * Run time of all the process's threads in microseconds from /proc/<pid>/task/<tid>/schedstat
 * (nanosecond resolution, unlike the 10 ms ticks of /proc/<pid>/stat). Recorded beside the stat
 * figure as a cross-check for short measurements; threads that already exited are not counted.
 */
export function schedMicros(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return total / 1000;
}
