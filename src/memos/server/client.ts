/**
 * HTTP client for the self-hosted, open-source MemOS server's `/product/*`
 * API (MemTensor/MemOS `src/memos/api/routers/server_router.py`). Plain
 * TypeScript: no Hono, no env. It knows the server's envelope
 * (`{code: 200, message, data}`), its four error body shapes and its optional
 * Bearer key, and nothing of callers. Failures are the cloud client's
 * `MemosError` kinds, so every surface maps them the same way.
 */
import { MAX_UPSTREAM_MESSAGE_CHARS, parseRetryAfter, redactDeep, redactText } from "../client";
import { MemosError, type MemosErrorDetails } from "../errors";

export interface ServerClientOptions {
  /** The server's base URL, without `/product`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when set; the server is unauthenticated by default. */
  apiKey?: string | undefined;
  fetch?: typeof fetch;
}

export interface ServerCallOptions {
  timeoutMs: number;
  /** One quick retry on a connection error or 502/503/504: only for reads. */
  retryOnce?: boolean;
  /**
   * The server's own 404 envelope (`{code: 404, message, data}`: an unknown
   * task, no matching memories) is an answer here, not a failure. A 404
   * without the envelope (Starlette's `{"detail": "Not Found"}`) still is one:
   * the route is missing, so MEMOS_SERVER_URL points at something else.
   */
  notFoundIsAnswer?: boolean;
}

export interface ServerAnswer {
  status: number;
  message: string;
  data: unknown;
}

/** Every route the backend calls; nothing else is ever requested (no open proxy). */
export const SERVER_PREFIX = "/product";
/** The secret named when the server refuses the key. */
const CREDENTIAL = "MEMOS_SERVER_KEY";
const RETRYABLE_STATUS = new Set([502, 503, 504]);
const RETRY_DELAY_MS = 100;
/** Refusals of the request itself: pydantic validation (422) and the server's ValueError/HTTPException 400. */
const REJECTED_STATUS = new Set([400, 422]);

export class ServerClient {
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ServerClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey === undefined || options.apiKey === "" ? undefined : options.apiKey;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** POST `{base}/product/{path}` with a JSON body. */
  post(path: string, body: unknown, options: ServerCallOptions): Promise<ServerAnswer> {
    return this.#call("POST", path, JSON.stringify(body), options);
  }

  /** GET `{base}/product/{path}` (`path` may carry a query built by the caller). */
  get(path: string, options: ServerCallOptions): Promise<ServerAnswer> {
    return this.#call("GET", path, undefined, options);
  }

  async #call(method: string, path: string, body: string | undefined, options: ServerCallOptions) {
    const deadline = Date.now() + options.timeoutMs;
    try {
      return await this.#attempt(method, path, body, options, options.timeoutMs);
    } catch (error) {
      const remaining = deadline - Date.now() - RETRY_DELAY_MS;
      if (!options.retryOnce || !isRetryable(error) || remaining < 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      return this.#attempt(method, path, body, options, remaining);
    }
  }

  async #attempt(
    method: string,
    path: string,
    body: string | undefined,
    options: ServerCallOptions,
    timeoutMs: number,
  ): Promise<ServerAnswer> {
    let response: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { Accept: "application/json" };
      if (this.#apiKey !== undefined) headers.Authorization = `Bearer ${this.#apiKey}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      response = await this.#fetch(`${this.#baseUrl}${SERVER_PREFIX}/${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new MemosError("timeout", `The MemOS server did not answer within ${timeoutMs} ms`, { cause: error });
      }
      throw new MemosError("unavailable", "The MemOS server could not be reached", { cause: error });
    }
    return this.#interpret(response, text, options);
  }

  #interpret(response: Response, text: string, options: ServerCallOptions): ServerAnswer {
    const status = response.status;
    const parsed = this.#apiKey === undefined ? safeJson(text) : redactDeep(safeJson(text), this.#apiKey);
    const envelope = envelopeOf(parsed);
    const reason = this.#redact(reasonOf(parsed) ?? `HTTP ${status}`);
    // Never `envelope` or `memosCode`: the server's codes are HTTP numbers, not MemOS cloud codes,
    // so MemOS-compatible callers get memos-edge's own codes for these failures.
    const details: MemosErrorDetails = { httpStatus: status, credential: CREDENTIAL };

    if (status === 401 || status === 403) {
      throw new MemosError("auth", `The MemOS server refused the request (${reason})`, details);
    }
    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      if (retryAfter !== undefined) details.retryAfterSeconds = retryAfter;
      throw new MemosError("rate_limited", `The MemOS server's rate limit was reached (${reason})`, details);
    }
    if (REJECTED_STATUS.has(status) && parsed !== undefined) {
      throw new MemosError("rejected", reason, details);
    }
    if (status === 404 && options.notFoundIsAnswer === true && envelope !== undefined) {
      return { status, message: this.#redact(envelope.message ?? "not found"), data: envelope.data ?? null };
    }
    if (status === 404) {
      throw new MemosError(
        "bad_response",
        `The MemOS server has no such route (HTTP 404: ${reason}); check MEMOS_SERVER_URL`,
        details,
      );
    }
    if (status >= 500)
      throw new MemosError("unavailable", `The MemOS server answered HTTP ${status} (${reason})`, details);
    if (envelope === undefined) {
      throw new MemosError(
        "bad_response",
        `The MemOS server answered HTTP ${status} with a body that is not its JSON envelope`,
        details,
      );
    }
    if (status !== 200 || envelope.code !== 200) {
      throw new MemosError(
        "unavailable",
        `The MemOS server failed with HTTP ${status}, code ${envelope.code} (${reason})`,
        details,
      );
    }
    return { status, message: this.#redact(envelope.message ?? "ok"), data: envelope.data ?? null };
  }

  #redact(message: string): string {
    const clean = this.#apiKey === undefined ? message : redactText(message, this.#apiKey);
    return clean.length > MAX_UPSTREAM_MESSAGE_CHARS ? `${clean.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…` : clean;
  }
}

interface ServerEnvelope {
  code: number;
  message: string | undefined;
  data: unknown;
}

/** `{code, message, data}` with a numeric `code`; anything else is not the server's envelope. */
function envelopeOf(value: unknown): ServerEnvelope | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const code = typeof record.code === "string" && /^\d+$/.test(record.code) ? Number(record.code) : record.code;
  if (typeof code !== "number" || !Number.isInteger(code)) return undefined;
  return { code, message: typeof record.message === "string" ? record.message : undefined, data: record.data };
}

/**
 * The server's own words for a failure, from each of its error bodies:
 * `{code, message, data}`, `{code: 422, message, detail}`, FastAPI's
 * `{detail: "..."}` and `{detail: [{loc, msg, type}, ...]}`.
 */
function reasonOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.message === "string" && record.message.trim() !== "") return record.message;
  if (typeof record.detail === "string") return record.detail;
  if (Array.isArray(record.detail)) {
    const readable = record.detail.map((item) => {
      if (typeof item !== "object" || item === null) return String(item);
      const { loc, msg } = item as { loc?: unknown; msg?: unknown };
      const where = Array.isArray(loc) ? `[${loc.map(String).join(" -> ")}] ` : "";
      return `${where}${typeof msg === "string" ? msg : "invalid"}`;
    });
    return `Parameter validation error: ${readable.join("; ")}`;
  }
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof MemosError) || error.kind !== "unavailable") return false;
  return error.httpStatus === undefined || RETRYABLE_STATUS.has(error.httpStatus);
}
