// One load of `npm run bench`: autocannon against a Worker's own port, each request from the next
// of many users, each with its own app token and address (the per-user and per-IP rate limits
// would throttle one), with the servers' CPU time read around it.
import autocannon from "autocannon";
import { groupCpuSeconds } from "./process-group.mjs";

export const CONNECTIONS = 10;

/**
 * Runs `route` for `seconds` (or `amount` requests at `overallRate`), rotating `users`
 * ({token, ip}): `Authorization: Bearer` and `CF-Connecting-IP`, as Cloudflare's edge sets it.
 * Returns the raw run: each response's own latency (autocannon's histogram rounds to whole
 * milliseconds), statuses, connection errors and the CPU seconds each process group used.
 */
export async function load(route, { users, seconds, amount, overallRate, groups = {} }) {
  let next = 0;
  const run = { latencies: [], statuses: {}, bytes: 0, seconds: 0, errors: 0, cpuSeconds: {} };
  const cpuBefore = Object.fromEntries(Object.entries(groups).map(([name, pgid]) => [name, groupCpuSeconds(pgid)]));
  const started = performance.now();
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${route.port}`,
        connections: CONNECTIONS,
        ...(amount ? { amount, overallRate } : { duration: seconds }),
        requests: [
          {
            method: route.method ?? "GET",
            path: route.path,
            ...(route.body === undefined ? {} : { body: route.body }),
            setupRequest: (request) => {
              const user = users[next++ % users.length];
              const headers = { ...request.headers, ...route.headers, authorization: `Bearer ${user.token}`, "cf-connecting-ip": route.ip?.() ?? user.ip };
              return { ...request, headers };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, status, size, ms) => {
      run.latencies.push(ms);
      run.statuses[status] = (run.statuses[status] ?? 0) + 1;
      run.bytes += size;
    });
  });
  run.seconds = (performance.now() - started) / 1000;
  run.errors = result.errors + result.timeouts;
  for (const [name, pgid] of Object.entries(groups)) run.cpuSeconds[name] = groupCpuSeconds(pgid) - cpuBefore[name];
  return run;
}

/** Several runs of one route as one measurement: req/s, p50/p99 latency, CPU ms per request. */
export function summarize(runs, expect) {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const requests = latencies.length;
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const statuses = {};
  const cpuSeconds = {};
  for (const run of runs) {
    for (const [status, n] of Object.entries(run.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
    for (const [name, s] of Object.entries(run.cpuSeconds)) cpuSeconds[name] = (cpuSeconds[name] ?? 0) + s;
  }
  const percentile = (p) => latencies[Math.min(requests - 1, Math.floor((p / 100) * requests))] ?? NaN;
  const perRequest = Math.max(1, requests);
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: percentile(50),
    p99: percentile(99),
    cpuMsPerRequest: Object.fromEntries(Object.entries(cpuSeconds).map(([name, s]) => [name, (s * 1000) / perRequest])),
    bytesPerResponse: runs.reduce((sum, r) => sum + r.bytes, 0) / perRequest,
    statuses,
    unexpected: requests - (statuses[expect] ?? 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}
