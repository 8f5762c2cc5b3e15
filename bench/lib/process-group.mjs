// What `npm run bench` reads about the servers it started, by process group (docs/operations.md › Toolchain notes,
// Benchmarks): their CPU time from /proc, and the port of the user Worker behind wrangler's proxy.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

/** `/proc/<pid>/stat` fields after the command name: [0] is field 3 (state), [2] field 5 (pgrp). */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // the process ended meanwhile
  }
}

function* groupStats(pgid) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields !== null && Number(fields[2]) === pgid) yield { pid: Number(entry), fields };
  }
}

export function groupPids(pgid) {
  return [...groupStats(pgid)].map((p) => p.pid);
}

/** User + system CPU seconds (fields 14 and 15) of every process in the group. */
export function groupCpuSeconds(pgid) {
  let ticks = 0;
  for (const { fields } of groupStats(pgid)) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}

/**
 * Waits (blocking, so it also works in an exit handler) until no process of the group runs.
 * Zombies do not count: the group's leader is our child, reaped only once we return.
 */
export function waitGroupGone(pgid, timeoutMs = 10_000) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  const running = () => [...groupStats(pgid)].some((p) => p.fields[0] !== "Z");
  while (running()) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, 100);
  }
  return true;
}

async function answer(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: "manual", signal: AbortSignal.timeout(2000) });
  return `${res.status} ${await res.text()}`;
}

/**
 * `wrangler dev` runs a proxy workerd on the public port and the user Worker's workerd on a
 * random one (plus its inspector and debug ports). The user Worker's port is the one of the
 * group's other workerd sockets that answers `path` exactly like the public port does.
 */
export async function userWorkerPort(pgid, publicPort, path) {
  const pids = new Set(groupPids(pgid));
  const ports = [];
  for (const line of execFileSync("ss", ["-ltnpH"]).toString().split("\n")) {
    const pid = /"workerd",pid=(\d+)/.exec(line)?.[1];
    const port = /:(\d+)\s/.exec(line)?.[1];
    if (pid && port && pids.has(Number(pid)) && Number(port) !== publicPort) ports.push(Number(port));
  }
  const expected = await answer(publicPort, path);
  for (const port of ports) {
    try {
      if ((await answer(port, path)) === expected) return port;
    } catch {
      // Not an HTTP port of the Worker (the debug port does not answer).
    }
  }
  throw new Error(`no workerd port of process group ${pgid} answers ${path} like port ${publicPort} (tried ${ports.join(", ") || "none"})`);
}
