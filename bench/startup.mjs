/**
 * Worker startup CPU: `wrangler check startup` profiles the startup phase of
 * a bundle in workerd (offline) and writes a .cpuprofile. The numbers are
 * computed from the profile as wrangler prints them (its
 * `summarizeStartupProfile`): active = sampled − idle. `codeMs` counts only
 * samples whose stack holds a frame of the bundle (module evaluation).
 * One run is noisy on a shared machine: the median of a few is reported.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { wrangler } from "./processes.mjs";

function summarize(file) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inBundle = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at))
      if (nodes.get(at).callFrame.url.endsWith(".js")) return true;
    return false;
  };
  let sampled = 0;
  let idle = 0;
  let code = 0;
  profile.timeDeltas.forEach((delta, i) => {
    const id = profile.samples[i];
    sampled += delta;
    if (nodes.get(id).callFrame.functionName === "(idle)") idle += delta;
    else if (inBundle(id)) code += delta;
  });
  return { activeMs: (sampled - idle) / 1000, codeMs: code / 1000 };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

/** Startup CPU of the Worker of each `{ label, config }`, `runs` profiles each, interleaved. */
export async function measureStartup({ workers, dir, runs, log }) {
  for (const worker of workers) {
    worker.bundle = join(dir, `${worker.label}.bundle`);
    await wrangler(["deploy", "--dry-run", "--config", worker.config, "--outfile", worker.bundle], {
      timeoutMs: 120_000,
    });
    worker.samples = [];
  }
  for (let run = 0; run < runs; run++) {
    for (const worker of workers) {
      const outfile = join(dir, `${worker.label}-${run}.cpuprofile`);
      await wrangler(["check", "startup", "--config", worker.config, "--worker", worker.bundle, "--outfile", outfile], {
        timeoutMs: 120_000,
      });
      worker.samples.push(summarize(outfile));
    }
  }
  const out = {};
  for (const worker of workers) {
    out[worker.label] = {
      runs,
      activeMs: median(worker.samples.map((s) => s.activeMs)),
      codeMs: median(worker.samples.map((s) => s.codeMs)),
      activeAll: worker.samples.map((s) => s.activeMs),
    };
    log(
      `  ${worker.label.padEnd(10)} startup active ${out[worker.label].activeMs.toFixed(1)} ms (runs: ${out[worker.label].activeAll.map((v) => v.toFixed(1)).join(", ")}), bundle code ${out[worker.label].codeMs.toFixed(1)} ms`,
    );
  }
  return out;
}
