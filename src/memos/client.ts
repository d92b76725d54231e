/**
 * HTTP client for the MemOS cloud API. Plain TypeScript: no Hono, no env.
 * It knows MemOS's auth header, envelope and error codes, and nothing of callers.
 */
import { MemosError, type MemosErrorDetails } from "./errors";
import { memosEnvelopeSchema } from "./types";

export interface MemosClientOptions {
  baseUrl: string;
  /** Bare key or `Token <key>`; the client always sends `Authorization: Token <key>`. */
  apiKey: string;
  fetch?: typeof fetch;
}

export interface CallOptions {
  timeoutMs: number;
  /**
   * One quick retry on a connection error or 502/503/504. Only for calls that are
   * safe to repeat (search); an add MemOS may have accepted is never resent blindly.
   */
  retryOnce?: boolean;
}

export interface MemosAnswer {
  /** HTTP status MemOS answered. */
  status: number;
  message: string;
  data: unknown;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const RETRY_DELAY_MS = 100;
/** Error codes from MemOS's docs ("error codes" page). */
const AUTH_CODES = new Set([40132]);
const RATE_LIMIT_CODES = new Set([40300]);
/** MemOS's error text is shown to callers; a proxy's HTML page should not be. */
export const MAX_UPSTREAM_MESSAGE_CHARS = 300;
/** A longer wait than this from MemOS is passed on as this: callers should come back within minutes. */
export const MAX_RETRY_AFTER_SECONDS = 300;
export const REDACTED = "[redacted]";

export class MemosClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: MemosClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey.trim().replace(/^token\s+/i, "");
    // Resolved per call so a fetch replaced after construction (tests, tracing) is used.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** POST `{base}/{path}` and unwrap the envelope; throws MemosError on any failure. */
  post(path: string, body: unknown, options: CallOptions): Promise<MemosAnswer> {
    return this.#call(path, JSON.stringify(body), options);
  }

  /** GET `{base}/{path}` (MemOS's one read by URL: `get/memory/{id}`). */
  get(path: string, options: CallOptions): Promise<MemosAnswer> {
    return this.#call(path, undefined, options);
  }

  async #call(path: string, body: string | undefined, options: CallOptions): Promise<MemosAnswer> {
    const deadline = Date.now() + options.timeoutMs;
    try {
      return await this.#attempt(path, body, options.timeoutMs);
    } catch (error) {
      const remaining = deadline - Date.now() - RETRY_DELAY_MS;
      if (!options.retryOnce || !isRetryable(error) || remaining < 50) throw error;
      await sleep(RETRY_DELAY_MS);
      return this.#attempt(path, body, remaining);
    }
  }

  async #attempt(path: string, body: string | undefined, timeoutMs: number): Promise<MemosAnswer> {
    let response: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { Authorization: `Token ${this.#apiKey}`, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      response = await this.#fetch(`${this.#baseUrl}/${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) {
        throw new MemosError("timeout", `MemOS did not answer within ${timeoutMs} ms`, { cause: error });
      }
      throw new MemosError("unavailable", "MemOS could not be reached", { cause: error });
    }
    return this.#interpret(response, text);
  }

  #interpret(response: Response, text: string): MemosAnswer {
    const status = response.status;
    // Before anything is kept or answered: MemOS may echo the key anywhere (a message, a task id, data).
    // The walk is skipped when the text cannot hold the key: no JSON encoder escapes a key's ASCII letters.
    const parsed = safeJson(text);
    const envelope = memosEnvelopeSchema.safeParse(
      text.includes(this.#apiKey) ? redactDeep(parsed, this.#apiKey) : parsed,
    );
    const memosCode = envelope.success ? envelope.data.code : undefined;
    const upstreamMessage = this.#redact((envelope.success ? envelope.data.message : undefined) ?? `HTTP ${status}`);
    const details: MemosErrorDetails = { httpStatus: status };
    if (envelope.success) {
      details.memosCode = envelope.data.code;
      details.envelope = { code: envelope.data.code, message: upstreamMessage, data: envelope.data.data ?? null };
    }

    if (status === 401 || status === 403 || (memosCode !== undefined && AUTH_CODES.has(memosCode))) {
      throw new MemosError("auth", `MemOS refused the configured API key (${upstreamMessage})`, details);
    }
    if (status === 429 || (memosCode !== undefined && RATE_LIMIT_CODES.has(memosCode))) {
      const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      if (retryAfter !== undefined) details.retryAfterSeconds = retryAfter;
      throw new MemosError("rate_limited", `MemOS rate limit reached (${upstreamMessage})`, details);
    }
    if (status >= 500) {
      throw new MemosError("unavailable", `MemOS answered HTTP ${status}`, details);
    }
    if (!envelope.success) {
      throw new MemosError(
        "bad_response",
        `MemOS answered HTTP ${status} with a body that is not its JSON envelope`,
        details,
      );
    }
    const code = envelope.data.code;
    // Some MemOS deployments answer code 200 for success.
    if (code === 0 || code === 200) {
      if (status >= 400) throw new MemosError("bad_response", `MemOS answered HTTP ${status}`, details);
      return { status, message: this.#redact(envelope.data.message ?? "ok"), data: envelope.data.data };
    }
    if (code >= 40000 && code < 50000) {
      throw new MemosError("rejected", upstreamMessage, details);
    }
    throw new MemosError("unavailable", `MemOS failed with code ${code} (${upstreamMessage})`, details);
  }

  /** MemOS error messages may echo the credential; nothing of it may reach a caller or a log. */
  #redact(message: string): string {
    const clean = redactText(message, this.#apiKey);
    return clean.length > MAX_UPSTREAM_MESSAGE_CHARS ? `${clean.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…` : clean;
  }
}

export function redactText(text: string, key: string): string {
  return key.length > 0 && text.includes(key) ? text.split(key).join(REDACTED) : text;
}

/** Deeper than any MemOS answer; what lies below is dropped rather than walked (a hostile nest cannot overflow the stack). */
const MAX_ANSWER_DEPTH = 64;

/**
 * The key taken out of every string and object key of a parsed answer (with
 * or without its `Token ` prefix, which is left before the mark).
 */
export function redactDeep(value: unknown, key: string, depth = 0): unknown {
  if (depth > MAX_ANSWER_DEPTH) return null;
  if (typeof value === "string") return redactText(value, key);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, key, depth + 1));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [redactText(name, key), redactDeep(item, key, depth + 1)]),
    );
  }
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof MemosError)) return false;
  if (error.kind === "timeout") return false;
  if (error.kind !== "unavailable") return false;
  return error.httpStatus === undefined || RETRYABLE_STATUS.has(error.httpStatus);
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.ceil(seconds), MAX_RETRY_AFTER_SECONDS);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - Date.now()) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
