/**
 * The error every route throws, and its default wire shape
 * `{ ok: false, error: { code, message, … } }`. Surfaces that speak another
 * dialect (the MemOS envelope, Dify's External Knowledge `error_code`) format
 * an `AppError` in their own sub-app's `onError`; this type carries only what
 * every surface needs.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import { MemosError, UnsupportedCallError } from "../memos/errors";
import { StoreError, UnsupportedByStoreError } from "../store/errors";

export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  upstream_rejected: 400,
  unauthorized: 401,
  forbidden_scope: 403,
  not_found: 404,
  method_not_allowed: 405,
  add_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  upstream_rate_limited: 429,
  internal_error: 500,
  upstream_auth: 502,
  upstream_error: 502,
  not_configured: 503,
  store_unavailable: 503,
  dedupe_unavailable: 503,
  queue_unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface AppErrorOptions {
  /** HTTP status MemOS answered, shown to the caller for upstream failures. */
  upstreamStatus?: number | undefined;
  /** Seconds, for 409 and 429. */
  retryAfter?: number | undefined;
  /** Name of the offending field, for input errors. */
  field?: string | undefined;
  /** Methods the path does take, for 405. */
  allow?: string[] | undefined;
  /** The failure underneath (a `MemosError` for upstream failures); never on the wire. */
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly upstreamStatus: number | undefined;
  readonly retryAfter: number | undefined;
  readonly field: string | undefined;
  readonly allow: string[] | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfter = options.retryAfter;
    this.field = options.field;
    this.allow = options.allow;
  }
}

/**
 * An error response in any dialect: the status and body the dialect chose, the
 * headers every surface sends. Made through the context, so headers set before
 * the error (the request id) are kept.
 */
export function errorResponse(
  c: Context,
  error: AppError,
  body: unknown = defaultBody(error),
  status = error.status,
): Response {
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
  };
  if (error.retryAfter !== undefined) headers["Retry-After"] = String(error.retryAfter);
  if (error.allow) headers.Allow = error.allow.join(", ");
  return c.newResponse(JSON.stringify(body), status as ContentfulStatusCode, headers);
}

function defaultBody(error: AppError) {
  const detail: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.field !== undefined) detail.field = error.field;
  if (error.upstreamStatus !== undefined) detail.upstream_status = error.upstreamStatus;
  if (error.retryAfter !== undefined) detail.retry_after = error.retryAfter;
  return { ok: false, error: detail };
}

/**
 * Turns anything thrown into an `AppError` and notes its facts on the request's
 * log line (never its message, which may quote input). Faults of our own get
 * a log line with their cause (D1 and JS errors name no values).
 */
export function noteError(c: Context<AppEnv>, error: unknown): AppError {
  const appError = toAppError(error);
  const log = c.var.log ?? {};
  log.error_code = appError.code;
  if (appError.upstreamStatus !== undefined) log.upstream_status = appError.upstreamStatus;
  if (appError.code === "internal_error" || appError.code === "store_unavailable") {
    const cause = appError.code === "internal_error" ? error : appError.cause;
    // A store failure names the D1 error underneath (say, "no such table"), not only our own sentence.
    const detail = cause instanceof StoreError ? `${String(cause)} (${String(cause.cause)})` : String(cause);
    console.error(JSON.stringify({ request_id: c.var.requestId, error: detail.slice(0, 500) }));
  }
  return appError;
}

/** MemOS's codes for over-long ids, so the caller learns which field. */
const MEMOS_FIELD_CODES: Record<number, string> = { 40010: "user_id", 40011: "conversation_id" };

function fromMemosError(error: MemosError): AppError {
  const options = { upstreamStatus: error.httpStatus, cause: error };
  switch (error.kind) {
    case "auth":
      return new AppError(
        "upstream_auth",
        `MemOS refused memos-edge's API key; check the ${error.credential ?? "MEMOS_API_KEY"} secret.`,
        options,
      );
    case "rejected":
      return new AppError("upstream_rejected", `MemOS refused the request: ${error.message}`, {
        ...options,
        field: error.memosCode === undefined ? undefined : MEMOS_FIELD_CODES[error.memosCode],
      });
    case "rate_limited":
      return new AppError("upstream_rate_limited", "MemOS's rate limit was reached; retry later.", {
        ...options,
        retryAfter: error.retryAfterSeconds ?? 1,
      });
    case "timeout":
      return new AppError("upstream_timeout", error.message, options);
    case "unavailable":
    case "bad_response":
      return new AppError("upstream_error", error.message, options);
  }
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof MemosError) return fromMemosError(error);
  if (error instanceof StoreError) return new AppError("store_unavailable", error.message, { cause: error });
  if (error instanceof UnsupportedByStoreError || error instanceof UnsupportedCallError) {
    return new AppError("invalid_request", error.message, { field: error.field, cause: error });
  }
  return new AppError("internal_error", "Internal error; see the Worker logs for the request id.", { cause: error });
}
