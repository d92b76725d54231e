/**
 * The setup page's only style and script, inline and allowed by the page's
 * Content-Security-Policy nonce: no build step, nothing fetched from elsewhere.
 */

export const STYLES = `
:root { color-scheme: light dark; --fg: #1f2937; --muted: #4b5563; --bg: #ffffff; --panel: #f3f4f6;
  --line: #d1d5db; --accent: #0369a1; --ok: #166534; --bad: #b91c1c; --warn-bg: #fef3c7; --warn-fg: #78350f; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e5e7eb; --muted: #9ca3af; --bg: #111827; --panel: #1f2937; --line: #374151;
    --accent: #7dd3fc; --ok: #86efac; --bad: #fca5a5; --warn-bg: #422006; --warn-fg: #fde68a; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.75rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-top: 1px solid var(--line); padding-top: 1.25rem; }
h3 { font-size: 1rem; margin: 0; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; }
code { overflow-wrap: anywhere; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin: .25rem 0;
  overflow: auto; max-height: 22rem; white-space: pre; }
.muted, .where { color: var(--muted); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
dl { margin: .5rem 0; }
.row { display: grid; grid-template-columns: minmax(10rem, 2fr) 5fr; gap: .25rem 1rem; padding: .5rem 0;
  border-bottom: 1px solid var(--line); }
.row dt { font-weight: 600; }
.row dd { margin: 0; display: flex; gap: .5rem; align-items: flex-start; flex-wrap: wrap; min-width: 0; }
.row dd > code, .row dd > pre { flex: 1 1 14rem; min-width: 0; }
.row dd > pre { max-height: 12rem; }
@media (max-width: 40rem) { .row { grid-template-columns: 1fr; } }
button, .button { font: inherit; min-height: 2.5rem; padding: .35rem .9rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--bg); color: var(--accent); cursor: pointer; text-decoration: none; display: inline-flex; align-items: center; }
button.primary { background: var(--accent); color: var(--bg); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.snippet-head { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-top: 1rem; }
.snippet-head h3 { flex: 1 1 12rem; }
.check { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
.check input { font: inherit; flex: 1 1 16rem; min-height: 2.5rem; padding: .35rem .6rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
#check-result { font-weight: 600; min-height: 1.5rem; }
#check-result[data-state="ok"] { color: var(--ok); }
#check-result[data-state="bad"] { color: var(--bad); }
.warn { background: var(--warn-bg); color: var(--warn-fg); border-radius: 6px; padding: .75rem 1rem; }
.warn pre { color: var(--fg); }
nav ul { padding-left: 1.25rem; columns: 2 14rem; }
footer { padding-bottom: 2rem; }
`;

/**
 * Copy buttons (`data-copy` names the element whose text is copied) and the
 * token check. The token is read from the field when the check runs, sent once
 * in an Authorization header and kept nowhere else.
 */
export const SCRIPT = `
"use strict";
(() => {
  const copyStatus = document.getElementById("copy-status");
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    const target = document.getElementById(button.dataset.copy || "");
    if (!target) return;
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(target.textContent || "");
      copyStatus.textContent = "Copied to the clipboard.";
      button.textContent = "Copied";
    } catch {
      // No clipboard (a page served over plain http from another host): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copyStatus.textContent = "Selected: press Ctrl+C (or Command+C) to copy.";
      button.textContent = "Selected";
    }
    setTimeout(() => { button.textContent = label; }, 1500);
  });

  const form = document.getElementById("check");
  const field = document.getElementById("token");
  const result = document.getElementById("check-result");
  const show = (state, text) => { result.dataset.state = state; result.textContent = text; };
  const PROBLEMS = {
    not_configured: "This Worker has no caller tokens yet (AUTH_TOKENS is not set): see above.",
    rate_limited: "Too many tries: wait a minute and test again.",
    upstream_auth: "The token is accepted, but MemOS refused the Worker's MEMOS_API_KEY: set the right key.",
    upstream_timeout: "The token is accepted, but MemOS did not answer in time: try again.",
    upstream_error: "The token is accepted, but MemOS failed: try again later.",
    store_unavailable: "The token is accepted, but the embedded store (D1) failed: see the Worker's logs.",
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = field.value.trim();
    if (!token) { show("bad", "Paste a caller token first."); field.focus(); return; }
    show("", "Testing…");
    const headers = { Authorization: "Bearer " + token };
    let response;
    try {
      response = await fetch("/v1/whoami", { method: "POST", headers, cache: "no-store", credentials: "omit" });
    } catch {
      show("bad", "Could not reach this Worker.");
      return;
    }
    const failed = async (answer) => {
      let code = "";
      try { code = ((await answer.json()).error || {}).code || ""; } catch { code = ""; }
      if (answer.status === 401) show("bad", "✗ Refused: this is not one of the Worker's caller tokens (AUTH_TOKENS or TENANTS).");
      else show("bad", "✗ " + (PROBLEMS[code] || "Failed: HTTP " + answer.status + (code ? " " + code : "") + "."));
    };
    if (!response.ok) { await failed(response); return; }
    const who = await response.json();
    const scopes = Array.isArray(who.scopes) ? who.scopes : [];
    const whose = (who.tenant ? "tenant " + who.tenant : "the shared space") + "; may " + (scopes.join(", ") || "nothing");
    if (!scopes.includes("read")) { show("ok", "✓ Works: the token was accepted (" + whose + ")."); return; }
    try {
      response = await fetch("/v1/search", {
        method: "POST",
        headers,
        // The same search a Dify node makes, for a user no one has: it stores nothing.
        body: new URLSearchParams({ user_id: "memos-edge-setup-check", query: "setup check", top_k: "1" }),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      show("bad", "Could not reach this Worker.");
      return;
    }
    if (response.ok) show("ok", "✓ Works: the token was accepted (" + whose + ") and the memory store answered.");
    else await failed(response);
  });
})();
`;
