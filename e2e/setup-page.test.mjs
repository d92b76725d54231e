/**
 * The setup page in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) against a bare `wrangler dev` on a fresh local state: the
 * embedded store, no MemOS, no migration step.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Without the background-networking flags Chromium floods a closed network with refused connections. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Screenshots land here (git-ignored). */
const RESULTS = join(ROOT, "test-results");
const TOKEN = `e2e-${randomBytes(16).toString("hex")}`;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let worker;
let workerLog = "";
let state;
let origin;
let browser;
let context;
let page;
const consoleErrors = [];

async function startWorker() {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  state = mkdtempSync(join(tmpdir(), "memos-edge-e2e-"));
  // `MEMOS_API_KEY:` (empty) keeps a developer's .dev.vars key out: the embedded store serves.
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state];
  args.push("--var", `AUTH_TOKENS:${TOKEN}`, "--var", "MEMOS_API_KEY:");
  worker = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env, detached: true, stdio: "pipe" });
  worker.stdout.on("data", (chunk) => (workerLog += chunk));
  worker.stderr.on("data", (chunk) => (workerLog += chunk));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (worker.exitCode !== null) break;
    try {
      if ((await fetch(`${origin}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`wrangler dev did not start:\n${workerLog.slice(-3000)}`);
}

async function stopWorker() {
  if (!worker || worker.exitCode !== null) return;
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  // Its own process group (detached): wrangler and the workerd it started.
  process.kill(-worker.pid, "SIGTERM");
  const timer = setTimeout(() => process.kill(-worker.pid, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

async function testToken(token, { keyboard = false } = {}) {
  await page.fill("#token", token);
  if (keyboard) await page.press("#token", "Enter");
  else await page.click("button[type=submit]");
  await page.waitForFunction(() => {
    const state = document.querySelector("#check-result")?.getAttribute("data-state");
    return state === "ok" || state === "bad";
  });
  return page.textContent("#check-result");
}

describe("the setup page in a browser", () => {
  before(async () => {
    await startWorker();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
  });

  after(async () => {
    await browser?.close();
    await stopWorker();
  });

  it("loads without console errors, showing this Worker", async () => {
    const response = await page.goto(`${origin}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-security-policy"], /script-src 'nonce-/);
    assert.equal(await page.textContent("h1"), "memos-edge setup");
    assert.equal(await page.getAttribute("#backend", "data-backend"), "local");
    assert.equal(await page.getAttribute("#tokens", "data-set"), "true");
    assert.equal(await page.textContent("#worker-url"), origin);
    assert.ok(!(await page.content()).includes(TOKEN), "the page shows no token");
    assert.deepEqual(consoleErrors, []);
  });

  it("reports a good token as working", async () => {
    assert.match(await testToken(TOKEN), /Works/);
  });

  it("reports a bad token as refused", async () => {
    assert.match(await testToken(`${TOKEN}-wrong`), /Refused/);
    assert.ok(!page.url().includes(TOKEN), "the token never reaches the URL");
    // Chromium logs every 4xx fetch as a console error: this one is the refusal under test.
    assert.deepEqual(consoleErrors.splice(0), [
      "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    ]);
  });

  it("works from the keyboard: Tab to the token field, Enter to test", async () => {
    await page.goto(`${origin}/`);
    let focused = "";
    for (let presses = 0; presses < 10 && focused !== "token"; presses += 1) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.id ?? "");
    }
    assert.equal(focused, "token");
    assert.equal(await page.evaluate(() => document.querySelector("label[for=token]")?.textContent), "Caller token");
    await page.keyboard.type(TOKEN);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#check-result[data-state=ok]");
  });

  it("downloads a chatflow DSL that parses as YAML and calls this Worker", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[download]")]);
    assert.equal(download.suggestedFilename(), "memos-edge-chatflow.yml");
    const dsl = parse(readFileSync(await download.path(), "utf8"));
    const url = dsl.workflow.environment_variables.find((variable) => variable.name === "MEMOS_EDGE_URL");
    assert.equal(url.value, origin);
    assert.equal(dsl.app.mode, "advanced-chat");
    assert.match(dsl.dependencies[0].value.marketplace_plugin_unique_identifier, /^langgenius\/openai:/);
    // The page shows the same text it downloads.
    assert.equal(await page.textContent("#chatflow-snippet-0"), readFileSync(await download.path(), "utf8"));
  });

  it("puts the right text on the clipboard with every Copy button", async () => {
    const buttons = await page.$$("button[data-copy]");
    assert.ok(buttons.length >= 15, `only ${buttons.length} copy buttons`);
    for (const button of buttons) {
      const target = await button.getAttribute("data-copy");
      await page.evaluate(() => navigator.clipboard.writeText(""));
      await button.click();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, await page.textContent(`#${target}`), `Copy of #${target}`);
    }
    const endpoint = page.locator("#external-knowledge dd", { hasText: "/dify" }).locator("button");
    await endpoint.click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${origin}/dify`);
  });

  it("fits a phone screen, and is captured at desktop and phone width", async () => {
    mkdirSync(RESULTS, { recursive: true });
    for (const [name, width, height] of [
      ["desktop", 1280, 900],
      ["phone", 390, 844],
    ]) {
      await page.setViewportSize({ width, height });
      await page.goto(`${origin}/`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name}: ${overflow}px wider than the screen`);
      const file = join(RESULTS, `setup-page-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(statSync(file).size > 10_000);
    }
  });

  it("served the embedded store with no migration step, leaving wrangler nothing to apply", async () => {
    const add = await fetch(`${origin}/v1/add`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: new URLSearchParams({ user_id: "e2e", user_message: "My favourite fruit is mango." }),
    });
    assert.equal(add.status, 200, await add.text());
    const search = await fetch(`${origin}/v1/search?format=text`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: new URLSearchParams({ user_id: "e2e", query: "favourite fruit" }),
    });
    assert.match(await search.text(), /mango/);
    const apply = spawnSync(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "MEMORY_DB", "--local", "--persist-to", state],
      { cwd: ROOT, env, encoding: "utf8" },
    );
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    assert.match(apply.stdout, /No migrations to apply/);
  });

  it("logged no console error in the whole session", () => {
    assert.deepEqual(consoleErrors, []);
  });
});
