/**
 * GET / — the setup page, and the Dify configuration it generates: what the
 * Worker runs, never a secret, this Worker's URL in every setting, and a
 * chatflow DSL that Dify can import.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import DOCS_DSL from "../docs/dify-chatflow.yml";
import app from "../src/index";
import { chatflowDsl, DSL_PLACEHOLDER_URL, setupSections } from "../src/setup/configs";
import { CLOUD, LOCAL, MEMOS_KEY, ORIGIN, TOKEN, call, json } from "./helpers";

/** A request to another origin than helpers' ORIGIN (the page is built from the request's own). */
async function at(url: string): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(url), { ...env, ...CLOUD }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const page = async (overrides: Record<string, unknown> = CLOUD, path = "/") => {
  const response = await call(path, {}, overrides);
  return { response, text: await response.text() };
};

interface HttpNode {
  id: string;
  data: { type: string; url?: string; error_strategy?: string; authorization?: unknown };
}

describe("GET / (setup page)", () => {
  it("is HTML under a strict Content-Security-Policy whose nonce the inline script and style carry", async () => {
    const { response, text } = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html; charset=utf-8/i);
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(text).toContain(`<script nonce="${nonce}">`);
    expect(text).toContain(`<style nonce="${nonce}">`);
    // Nothing is loaded from anywhere else.
    expect(text).not.toMatch(
      /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!memos-edge\.example\.workers\.dev)[a-z]/i,
    );
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("gets a fresh nonce per response", async () => {
    const first = (await page()).response.headers.get("Content-Security-Policy");
    const second = (await page()).response.headers.get("Content-Security-Policy");
    expect(first).not.toBe(second);
  });

  it("shows the backend, version and that tokens are set, and never a token or the MemOS key", async () => {
    const { text } = await page({ ...CLOUD, AUTH_TOKENS: `${TOKEN},second-token` });
    expect(text).toContain('data-backend="memos"');
    expect(text).toContain('data-set="true"');
    expect(text).toContain("0.1.0");
    for (const secret of [MEMOS_KEY, TOKEN, "second-token"]) expect(text).not.toContain(secret);
  });

  it("shows the embedded store when no MemOS key is set", async () => {
    expect((await page(LOCAL)).text).toContain('data-backend="local"');
  });

  it("says exactly how to set a caller token when AUTH_TOKENS is unset", async () => {
    const { text } = await page({ ...LOCAL, AUTH_TOKENS: undefined });
    expect(text).toContain('data-set="false"');
    expect(text).toContain("npm run token");
    expect(text).toContain("npx wrangler secret put AUTH_TOKENS");
  });

  it("fills this Worker's own URL into every setting, from the request's origin", async () => {
    const { text } = await page();
    for (const path of [
      "/v1/search?format=text",
      "/v1/add",
      "/dify",
      "/dify/extension",
      "/openapi.json",
      "/api/openmem/v1",
    ]) {
      expect(text).toContain(`${ORIGIN}${path}`.replaceAll("&", "&amp;"));
    }
    const local = await (await at("http://127.0.0.1:8787/")).text();
    expect(local).toContain("http://127.0.0.1:8787/dify/extension");
    expect(local).not.toContain(`${ORIGIN}/v1`);
  });

  it("warns that Dify cannot call a local URL", async () => {
    expect((await page()).text).not.toContain("This is a local URL");
    for (const url of ["http://127.0.0.1:8787/", "http://localhost:8787/"]) {
      expect(await (await at(url)).text()).toContain("This is a local URL");
    }
  });

  it("offers the chatflow DSL for download, with this Worker's URL", async () => {
    const { response, text } = await page(CLOUD, "/setup/dify-chatflow.yml");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Disposition")).toBe('attachment; filename="memos-edge-chatflow.yml"');
    expect(response.headers.get("Content-Type")).toMatch(/^application\/yaml/);
    expect(text).toBe(chatflowDsl(ORIGIN));
  });

  it("answers 405 for another method", async () => {
    const response = await call("/", { method: "POST" });
    expect(response.status).toBe(405);
    expect(await json(response)).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});

describe("the generated configuration", () => {
  it("is a chatflow Dify can import: the docs DSL with MEMOS_EDGE_URL set and nothing else changed", () => {
    const dsl = parse(chatflowDsl(ORIGIN)) as {
      dependencies: { type: string; value: { marketplace_plugin_unique_identifier: string } }[];
      workflow: {
        environment_variables: { name: string; value: string; value_type: string }[];
        graph: { nodes: HttpNode[] };
      };
    };
    const variables = Object.fromEntries(dsl.workflow.environment_variables.map((v) => [v.name, v]));
    expect(variables.MEMOS_EDGE_URL?.value).toBe(ORIGIN);
    // The token stays a secret to fill in, never pre-filled.
    expect(variables.MEMOS_EDGE_TOKEN).toMatchObject({ value: "", value_type: "secret" });
    expect(chatflowDsl(ORIGIN)).toBe(DOCS_DSL.replace(`value: ${DSL_PLACEHOLDER_URL}\n`, `value: '${ORIGIN}'\n`));
  });

  it("declares the model plugin its LLM node uses, in Dify's dependency format", () => {
    const dsl = parse(chatflowDsl(ORIGIN)) as {
      dependencies: {
        type: string;
        current_identifier: null;
        value: { marketplace_plugin_unique_identifier: string };
      }[];
      workflow: { graph: { nodes: { data: { type: string; model?: { provider: string } } }[] } };
    };
    const providers = dsl.workflow.graph.nodes.flatMap(({ data }) => (data.model ? [data.model.provider] : []));
    expect(providers).toEqual(["langgenius/openai/openai"]);
    expect(dsl.dependencies).toEqual([
      {
        current_identifier: null,
        type: "marketplace",
        value: {
          marketplace_plugin_unique_identifier: expect.stringMatching(
            /^langgenius\/openai:\d+\.\d+\.\d+@[0-9a-f]{64}$/,
          ),
          version: null,
        },
      },
    ]);
  });

  it("keeps the memory nodes soft-failing, calling this Worker through MEMOS_EDGE_URL with the secret token", () => {
    const dsl = parse(chatflowDsl(ORIGIN)) as { workflow: { graph: { nodes: HttpNode[] } } };
    const http = dsl.workflow.graph.nodes.filter(({ data }) => data.type === "http-request");
    expect(http.map(({ id, data }) => [id, data.url, data.error_strategy])).toEqual([
      ["memory_search", "{{#env.MEMOS_EDGE_URL#}}/v1/search?format=text", "default-value"],
      ["memory_add", "{{#env.MEMOS_EDGE_URL#}}/v1/add", "default-value"],
    ]);
    for (const { data } of http) {
      expect(data.authorization).toEqual({
        type: "api-key",
        config: { type: "bearer", api_key: "{{#env.MEMOS_EDGE_TOKEN#}}" },
      });
    }
  });

  it("quotes the URL so no host can change the YAML around it", () => {
    const odd = "https://a'b.example";
    const dsl = parse(chatflowDsl(odd)) as { workflow: { environment_variables: { name: string; value: string }[] } };
    expect(dsl.workflow.environment_variables.find((v) => v.name === "MEMOS_EDGE_URL")?.value).toBe(odd);
  });

  it("puts the origin in every section, and a value to paste in each copyable field", () => {
    const origin = "http://127.0.0.1:8787";
    const sections = setupSections(origin);
    expect(sections.map(({ id }) => id)).toEqual([
      "chatflow",
      "http-node",
      "external-knowledge",
      "api-extension",
      "custom-tool",
      "memos-plugin",
      "webhooks",
    ]);
    for (const section of sections) {
      const texts = [...section.fields.map(({ value }) => value), ...section.snippets.map(({ text }) => text)];
      expect(texts.join("\n"), section.id).toContain(origin);
    }
    const urls = sections.flatMap(({ fields }) =>
      fields.filter(({ value }) => value.startsWith(origin)).map(({ value }) => value),
    );
    expect(urls).toEqual(
      expect.arrayContaining([
        `${origin}/v1/search?format=text`,
        `${origin}/v1/add`,
        `${origin}/dify`,
        `${origin}/dify/extension`,
        `${origin}/openapi.json`,
        `${origin}/api/openmem/v1`,
      ]),
    );
  });
});

describe("the API when no caller token is set", () => {
  it("answers 503 not_configured naming the commands to run", async () => {
    const response = await call(
      "/v1/search",
      { method: "POST", body: "user_id=u&query=q" },
      { ...LOCAL, AUTH_TOKENS: undefined },
    );
    expect(response.status).toBe(503);
    const body = (await json(response)) as { error: { message: string } };
    expect(body.error.message).toContain("npm run token");
    expect(body.error.message).toContain("npx wrangler secret put AUTH_TOKENS");
  });
});
