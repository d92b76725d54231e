/**
 * `GET /` — the setup page (src/setup/), and `GET /setup/dify-chatflow.yml`,
 * the chatflow DSL as a download. No auth: neither shows a secret.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { TenantConfigError } from "../tenants/config";
import { allowedMethods } from "../http/middleware";
import { CHATFLOW_FILENAME, CHATFLOW_PATH, chatflowDsl, setupSections } from "../setup/configs";
import { setupPage } from "../setup/page";
import { VERSION } from "../version";

export const setup = new Hono<AppEnv>();

/**
 * A strict Content-Security-Policy: the page's one inline style and script carry
 * this response's nonce, it talks only to this Worker, and nothing frames it.
 * Written out rather than with hono/secure-headers, which costs about 2 KiB
 * gzip of a bundle held under a 100 KiB budget for six headers.
 */
const pageHeaders = createMiddleware<AppEnv & { Variables: { nonce: string } }>(async function pageHeaders(c, next) {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  c.set("nonce", nonce);
  await next();
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
      "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  c.header("Cache-Control", "no-store");
});

setup.use("/", allowedMethods(setup));
setup.use(CHATFLOW_PATH, allowedMethods(setup));

setup.get("/", pageHeaders, (c) => {
  const origin = new URL(c.req.url).origin;
  return c.html(
    setupPage({
      origin,
      backend: c.var.backend.kind,
      version: VERSION,
      // Tokens may come from AUTH_TOKENS or TENANTS; a TENANTS that does not parse accepts none.
      tokensSet: !(c.var.config.tenants instanceof TenantConfigError) && c.var.config.tenants.tokens.length > 0,
      sections: setupSections(origin),
      nonce: c.var.nonce,
    }),
  );
});

setup.get(CHATFLOW_PATH, (c) =>
  c.body(chatflowDsl(new URL(c.req.url).origin), 200, {
    "Content-Type": "application/yaml; charset=utf-8",
    "Content-Disposition": `attachment; filename="${CHATFLOW_FILENAME}"`,
    "Cache-Control": "no-store",
  }),
);
