/**
 * Baseline for `npm run bench`: a minimal Hono Worker that forwards add and
 * search to MemOS as-is — no caller auth, validation, dedupe or shaping.
 * memos-edge's throughput, latency and CPU are reported as ratios to this.
 */
import { Hono } from "hono";

type Env = { Bindings: { MEMOS_BASE_URL: string; MEMOS_API_KEY: string } };

const app = new Hono<Env>();

/**
 * One log line per request, as memos-edge writes (and any production Worker
 * would). Under wrangler dev every console.log travels through the inspector
 * to the terminal, which costs more CPU than either Worker's own code; without
 * this line the comparison would measure that, not the code.
 */
app.use("*", async (c, next) => {
  const started = Date.now();
  await next();
  console.log(
    JSON.stringify({
      request_id: crypto.randomUUID(),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Date.now() - started,
    }),
  );
});

app.get("/health", (c) => c.json({ ok: true }));

// Same paths as MemOS, so the baseline and a direct call take identical requests.
for (const path of ["add/message", "search/memory"]) {
  app.post(`/${path}`, async (c) => {
    // Parsed and re-serialised, as any forwarder that looks at the body must.
    const body: unknown = await c.req.json();
    const upstream = await fetch(`${c.env.MEMOS_BASE_URL}/${path}`, {
      method: "POST",
      headers: { Authorization: `Token ${c.env.MEMOS_API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return c.body(await upstream.text(), upstream.status as 200, { "Content-Type": "application/json" });
  });
}

export default app;
