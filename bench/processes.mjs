/**
 * Child processes of the benchmark: wrangler commands, `wrangler dev`
 * servers, and the workerd processes inside them. Every child is started in
 * its own process group and registered, so one call (also on error or
 * Ctrl-C) ends it together with everything it spawned.
 */
import { execFileSync, fork, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const STOP_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 90_000;
/** Both Workers answer it without auth; it proves the Worker, not just wrangler, is up. */
const HEALTH_PATH = "/health";

/** Children still running; every one is a process-group leader (detached). */
const running = new Set();
let interrupted = false;

/** True after Ctrl-C: errors from children we are stopping are expected then, not news. */
export const wasInterrupted = () => interrupted;

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM the child's group, then SIGKILL whatever is left after a grace period. */
export async function stop(child) {
  if (!running.has(child)) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  killGroup(child, "SIGTERM");
  const timer = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
  await Promise.race([exited, timer]);
  // The leader may be gone while workerd grandchildren linger: always sweep the group.
  killGroup(child, "SIGKILL");
  running.delete(child);
}

export async function stopAll() {
  await Promise.all([...running].map(stop));
}

/** Last resort for an abrupt exit: no time for grace, but nothing may outlive us. */
process.on("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping child processes…`);
    stopAll().finally(() => process.exit(130));
  });
}

/**
 * wrangler dev records every request's spans (its fetches, KV, D1 and Durable
 * Object calls, log lines) into a local SQLite trace store inside the runtime
 * workerd. Production collects traces outside the Worker, and the local cost
 * grows with the spans, so it would charge memos-edge's storage calls twice;
 * off unless `BENCH_LOCAL_TRACING=1` (README "Reading the numbers").
 */
export const LOCAL_TRACING = process.env.BENCH_LOCAL_TRACING === "1";

function startWrangler(args, stdio) {
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    detached: true,
    stdio,
    // CI: no prompts; no metrics (there is no network to send them to).
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
      NO_COLOR: "1",
      X_LOCAL_OBSERVABILITY: String(LOCAL_TRACING),
    },
  });
  running.add(child);
  child.once("exit", () => {
    // Workerd may outlive a crashed wrangler; sweep its group before forgetting it.
    killGroup(child, "SIGKILL");
    running.delete(child);
  });
  return child;
}

/** Runs a one-shot wrangler command, bounded; resolves its combined output or throws with it. */
export function wrangler(args, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = startWrangler(args, ["ignore", "pipe", "pipe"]);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      stop(child);
      reject(new Error(`wrangler ${args.join(" ")} timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} exited with ${code}\n${output.slice(-4000)}`));
    });
  });
}

/**
 * Forks the fake MemOS (upstream.mjs) and returns its URL and two controls:
 * `setLatency(ms)` and `takeStats()` (calls since the last take).
 */
export async function startUpstream({ apiKey, timeoutMs = 10_000 }) {
  const child = fork(join(ROOT, "bench", "upstream.mjs"), {
    detached: true,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, BENCH_UPSTREAM_KEY: apiKey },
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  /** Sends `message` (if any) and resolves the child's next answer carrying `key`. */
  const ask = (message, key) =>
    new Promise((resolve, reject) => {
      const done = (settle, value) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        settle(value);
      };
      const onMessage = (answer) => key in answer && done(resolve, answer[key]);
      const onExit = () => done(reject, new Error("the fake MemOS exited"));
      const timer = setTimeout(
        () => done(reject, new Error(`the fake MemOS sent no ${key} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.on("message", onMessage);
      child.once("exit", onExit);
      if (message) child.send(message, (error) => error && done(reject, error));
    });
  const port = await ask(undefined, "port");
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    setLatency: (latencyMs) => ask({ latencyMs }, "latencyMs"),
    takeStats: () => ask({ stats: true }, "stats"),
  };
}

/** A port nothing listens on right now (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `wrangler dev` on 127.0.0.1 and waits (bounded) until the Worker's
 * health route answers 200. Output goes to a log file, not a pipe, so a chatty worker
 * never blocks on us reading it.
 *
 * Returns two URLs: `url`, wrangler's dev proxy (what a developer calls), and
 * `workerUrl`, the runtime workerd's own socket behind it. The benchmark
 * drives `workerUrl`: the proxy costs more CPU and latency than the Worker
 * itself and does not exist in production (README "Reading the numbers").
 */
export async function startDev({ label, config, vars, persistTo, logFile }) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const log = openSync(logFile, "w");
  const child = startWrangler(
    [
      "dev",
      "--config",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      // Explicit, so a second wrangler dev (ours or the developer's) never clashes on 9229.
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--show-interactive-dev-session=false",
      ...varArgs,
    ],
    ["ignore", log, log],
  );
  closeSync(log);
  const server = { label, child, port, inspectorPort, url: `http://127.0.0.1:${port}`, logFile };
  try {
    await waitForHealth(server, `${server.url}${HEALTH_PATH}`, Date.now() + READY_TIMEOUT_MS);
    server.workerUrl = await runtimeUrl(server, inspectorPort);
    return server;
  } catch (error) {
    await stop(child);
    throw error;
  }
}

async function answersHealth(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function waitForHealth(server, url, deadline) {
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null)
      throw new Error(`${server.label}: wrangler dev exited with ${server.child.exitCode}; see ${server.logFile}`);
    if (await answersHealth(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${server.label}: not ready in time; see ${server.logFile}`);
}

/** The runtime workerd's HTTP socket: of the ports it listens on, the one that serves the Worker. */
async function runtimeUrl(server, inspectorPort) {
  const { runtime } = workerdProcesses(server);
  if (runtime.length !== 1) throw new Error(`${server.label}: expected one runtime workerd, found ${runtime.length}`);
  for (const port of listeningPorts(runtime[0])) {
    if (port === inspectorPort) continue;
    const url = `http://127.0.0.1:${port}`;
    if (await answersHealth(`${url}${HEALTH_PATH}`)) return url;
  }
  throw new Error(`${server.label}: no port of workerd ${runtime[0]} serves ${HEALTH_PATH}`);
}

function procStat(pid) {
  // The command name (field 2) may contain spaces; fields are counted after its closing paren.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) };
}

/**
 * The workerd processes under a wrangler dev, split in two: wrangler puts a
 * proxy workerd on the public port in front of the runtime workerd that runs
 * the Worker (and its local KV and D1). Only the runtime is the Worker's cost.
 */
export function workerdProcesses(server) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), procStat(entry).ppid);
    } catch {
      // Exited while we walked.
    }
  }
  const descends = (pid) => {
    for (let p = parents.get(pid), hops = 0; p !== undefined && hops < 16; p = parents.get(p), hops++) {
      if (p === server.child.pid) return true;
    }
    return false;
  };
  const found = { runtime: [], proxy: [] };
  for (const pid of parents.keys()) {
    if (!descends(pid)) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!cmdline[0]?.endsWith("workerd")) continue;
    const onPublicPort = cmdline.includes(`--socket-addr=entry=127.0.0.1:${server.port}`);
    (onPublicPort ? found.proxy : found.runtime).push(pid);
  }
  return found;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of these processes, in milliseconds. */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const { utime, stime } = procStat(pid);
    ticks += utime + stime;
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** TCP ports a process listens on, from its socket fds and /proc/net/tcp{,6}. */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith("socket:[")) inodes.add(target.slice(8, -1));
    } catch {
      // Closed while we looked.
    }
  }
  const ports = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields[1] local address (hex ip:port), fields[3] state (0A = LISTEN), fields[9] inode.
      if (fields[3] === "0A" && inodes.has(fields[9])) ports.push(Number.parseInt(fields[1].split(":")[1], 16));
    }
  }
  return ports;
}
