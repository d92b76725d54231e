/**
 * The setup page at `/`: what this Worker runs, a token check, and every Dify
 * (and webhook) setting with this Worker's URL filled in. Rendered with Hono's
 * `html` helper, which escapes every value; no secret or token is ever passed in.
 */
import { html, raw } from "hono/html";
import type { BackendKind } from "../memos/backend";
import { SCRIPT, STYLES } from "./assets";
import type { SetupField, SetupSection, SetupSnippet } from "./configs";

export interface SetupPageFacts {
  origin: string;
  backend: BackendKind;
  version: string;
  /** Whether AUTH_TOKENS holds at least one token: never the tokens. */
  tokensSet: boolean;
  sections: SetupSection[];
  /** The CSP nonce of this response, for the inline style and script. */
  nonce: string;
}

export function setupPage(facts: SetupPageFacts) {
  const { nonce, sections } = facts;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>memos-edge setup</title>
        <link rel="icon" href="data:," />
        <style nonce="${nonce}">
          ${raw(STYLES)}
        </style>
      </head>
      <body>
        <a class="skip" href="#main">Skip to the settings</a>
        <header>
          <h1>memos-edge setup</h1>
          <p class="muted">
            Long-term memory for Dify and no-code tools. Everything below is filled in for this Worker; paste your
            caller token only into Dify's own fields.
          </p>
        </header>
        <main id="main">
          ${statusSection(facts)}
          <section aria-labelledby="check-title">
            <h2 id="check-title">Test a caller token</h2>
            <form id="check" action="#" autocomplete="off" novalidate>
              <label for="token">Caller token</label>
              <div class="check">
                <input
                  id="token"
                  type="password"
                  autocomplete="off"
                  autocapitalize="off"
                  spellcheck="false"
                  aria-describedby="token-help"
                />
                <button type="submit" class="primary">Test</button>
              </div>
              <p id="token-help" class="muted">
                Stays in this page: sent once to this Worker's <code>/v1/search</code> (a search that stores nothing),
                never saved, logged or put in a URL.
              </p>
              <p id="check-result" role="status" aria-live="polite"></p>
            </form>
          </section>
          <nav aria-labelledby="nav-title">
            <h2 id="nav-title">Connect</h2>
            <ul>
              ${sections.map((section) => html`<li><a href="#${section.id}">${section.title}</a></li>`)}
              <li><a href="#troubleshooting">Troubleshooting</a></li>
            </ul>
          </nav>
          ${sections.map(sectionBlock)} ${troubleshooting()}
        </main>
        <footer>
          <p class="muted">
            memos-edge ${facts.version} · <a href="/health">/health</a> · <a href="/openapi.json">/openapi.json</a>
          </p>
        </footer>
        <div id="copy-status" class="visually-hidden" role="status" aria-live="polite"></div>
        <script nonce="${nonce}">
          ${raw(SCRIPT)};
        </script>
      </body>
    </html>`;
}

function statusSection({ origin, backend, version, tokensSet }: SetupPageFacts) {
  const host = new URL(origin).hostname;
  const local = host === "localhost" || host === "[::1]" || host.startsWith("127.");
  return html`<section aria-labelledby="status-title">
    <h2 id="status-title">This Worker</h2>
    <dl>
      <div class="row">
        <dt>URL</dt>
        <dd>
          <code id="worker-url">${origin}</code
          ><button type="button" data-copy="worker-url" aria-label="Copy the Worker URL">Copy</button>
        </dd>
      </div>
      <div class="row">
        <dt>Memory backend</dt>
        <dd id="backend" data-backend="${backend}">
          ${
            backend === "memos"
              ? "MemOS cloud (MEMOS_API_KEY is set): MemOS extracts facts and preferences."
              : "Embedded store (D1): no MemOS key is set; messages are stored as said and found by full-text search."
          }
        </dd>
      </div>
      <div class="row">
        <dt>Version</dt>
        <dd>${version}</dd>
      </div>
      <div class="row">
        <dt>Caller tokens (AUTH_TOKENS)</dt>
        <dd id="tokens" data-set="${String(tokensSet)}">
          ${tokensSet ? "Set." : "Not set: every memory call answers 503 until you set one (below)."}
        </dd>
      </div>
    </dl>
    ${tokensSet ? "" : tokenHowTo()}
    ${
      local
        ? html`<p class="warn">
            This is a local URL. Dify cannot call <code>${host}</code> (its SSRF protection blocks local addresses):
            deploy with <code>npm run deploy</code>, or expose this Worker through a public HTTPS tunnel, and open this
            page there.
          </p>`
        : ""
    }
  </section>`;
}

function tokenHowTo() {
  return html`<div class="warn" id="token-howto">
    <p>
      <strong>Set a caller token.</strong> In your clone of memos-edge, make a strong random token and store it as the
      Worker's secret:
    </p>
    <pre id="token-steps"><code>npm run token
npx wrangler secret put AUTH_TOKENS</code></pre>
    <button type="button" data-copy="token-steps" aria-label="Copy the token commands">Copy</button>
    <p>
      Paste the token when <code>wrangler secret put</code> asks. Several tokens can be set at once, comma-separated
      (for rotation). For <code>wrangler dev</code>, put <code>AUTH_TOKENS=…</code> in <code>.dev.vars</code>, or run
      <code>npm start</code> (token <code>dev-token</code>).
    </p>
  </div>`;
}

function sectionBlock(section: SetupSection) {
  return html`<section id="${section.id}" aria-labelledby="${section.id}-title">
    <h2 id="${section.id}-title">${section.title}</h2>
    <p class="where">${section.where}</p>
    <dl>${section.fields.map((field, index) => fieldRow(section, field, index))}</dl>
    ${section.snippets.map((snippet, index) => snippetBlock(section, snippet, index))}
    ${section.note === undefined ? "" : html`<p>${section.note}</p>`}
  </section>`;
}

function fieldRow(section: SetupSection, field: SetupField, index: number) {
  const id = `${section.id}-field-${index}`;
  const value = field.value.includes("\n")
    ? html`<pre id="${id}">${field.value}</pre>`
    : html`<code id="${id}">${field.value}</code>`;
  const copy = field.copy
    ? html`<button type="button" data-copy="${id}" aria-label="Copy ${section.title}: ${field.label}">Copy</button>`
    : "";
  return html`<div class="row">
    <dt>${field.label}</dt>
    <dd>${field.copy ? value : html`<span>${field.value}</span>`}${copy}</dd>
  </div>`;
}

function snippetBlock(section: SetupSection, snippet: SetupSnippet, index: number) {
  const id = `${section.id}-snippet-${index}`;
  return html`<div class="snippet-head">
      <h3 id="${id}-title">${snippet.label}</h3>
      <button type="button" data-copy="${id}" aria-label="Copy ${snippet.label}">Copy</button>${
        snippet.download === undefined
          ? ""
          : html`<a class="button" href="${snippet.download.path}" download="${snippet.download.filename}"
              >Download ${snippet.download.filename}</a
            >`
      }
    </div>
    <pre id="${id}" tabindex="0" aria-labelledby="${id}-title">${snippet.text}</pre>`;
}

function troubleshooting() {
  return html`<section id="troubleshooting" aria-labelledby="troubleshooting-title">
    <h2 id="troubleshooting-title">Troubleshooting</h2>
    <h3>Chat answers but never remembers</h3>
    <p>
      The chatflow's memory nodes fail soft: with a wrong or empty <code>MEMOS_EDGE_TOKEN</code>, or a wrong
      <code>MEMOS_EDGE_URL</code>, the chat still answers, without memory, and nothing shows in the chat. To spot it,
      open the app's <strong>Logs</strong>, pick a run and look at the <em>Recall memories</em> and
      <em>Save to memory</em> nodes: a node that failed shows an exception (for example
      <code>Request failed with status code 401</code> or <code>Reached maximum retries</code>) and an empty
      <code>body</code> with <code>status_code</code> 0. Test the token above, compare the URL with this page's, and set
      both in the app's Environment Variables. While setting up you can turn the nodes' error handling to None to see
      every failure.
    </p>
    <h3>Other answers</h3>
    <p>
      401: the token is not one of <code>AUTH_TOKENS</code>. 503 <code>not_configured</code>: no tokens are set. 502
      <code>upstream_auth</code>: MemOS refused <code>MEMOS_API_KEY</code>. Every answer carries an
      <code>X-Request-Id</code> to find in the Worker's logs (<code>npx wrangler tail</code>).
    </p>
  </section>`;
}
