/**
 * The one place errors become HTTP answers. Every route throws `AppError`
 * (or lets an unknown error bubble to `onError`); the wire shape depends only
 * on which surface the caller speaks, so each client reads errors natively:
 *   - default (`/v1/*`, `/dify/extension`, …): `{ ok: false, error: { code, message } }`
 *   - MemOS-compatible (`/api/openmem/v1/*`): `{ code: <non-zero>, message, data: null }`
 *   - Dify External Knowledge (`/dify/retrieval`): `{ error_code, error_msg }`
 */

import { MemosError, StoreError, type MemosEnvelope } from "./memos/errors";

export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  upstream_rejected: 400,
  unauthorized: 401,
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
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface AppErrorOptions {
  /** HTTP status MemOS answered, shown to the caller for upstream failures. */
  upstreamStatus?: number | undefined;
  /** MemOS envelope `code`, passed on to MemOS-compatible callers. */
  upstreamCode?: number | undefined;
  /** Seconds, for 409 and 429. */
  retryAfter?: number | undefined;
  /** Name of the offending field, for input errors. */
  field?: string | undefined;
  /** MemOS's answer (key redacted), passed on as MemOS gave it to MemOS-compatible callers. */
  upstreamEnvelope?: MemosEnvelope | undefined;
  /** Methods the path does take, for 405. */
  allow?: string[] | undefined;
  /** The credential was present but not in a form we read (Dify's code 1001 vs 1002). */
  malformedCredential?: boolean | undefined;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly upstreamStatus: number | undefined;
  readonly upstreamCode: number | undefined;
  readonly retryAfter: number | undefined;
  readonly field: string | undefined;
  readonly allow: string[] | undefined;
  readonly malformedCredential: boolean;
  readonly upstreamEnvelope: MemosEnvelope | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamCode = options.upstreamCode;
    this.retryAfter = options.retryAfter;
    this.field = options.field;
    this.allow = options.allow;
    this.upstreamEnvelope = options.upstreamEnvelope;
    this.malformedCredential = options.malformedCredential ?? false;
  }
}

export type ErrorSurface = "default" | "memos" | "dify_knowledge";

export function errorSurfaceOf(path: string): ErrorSurface {
  if (path.startsWith("/api/openmem/")) return "memos";
  // Every other /dify/ path answers like External Knowledge: an endpoint typed as
  // ".../dify/retrieval" makes Dify probe ".../retrieval/retrieval", and only a 403
  // (not 401) makes its save check refuse a bad token.
  if (path.startsWith("/dify/") && path !== "/dify/extension") return "dify_knowledge";
  return "default";
}

/** Non-zero envelope codes for MemOS-compatible callers, in MemOS's own numbering where one exists. */
const MEMOS_CODES: Record<ErrorCode, number> = {
  invalid_request: 40000,
  invalid_json: 40000,
  upstream_rejected: 40000,
  unauthorized: 40132,
  not_found: 40400,
  method_not_allowed: 40500,
  add_in_progress: 40900,
  payload_too_large: 41300,
  unsupported_media_type: 41500,
  idempotency_key_reused: 42200,
  rate_limited: 40300,
  upstream_rate_limited: 40300,
  internal_error: 50000,
  upstream_auth: 50200,
  upstream_error: 50200,
  not_configured: 50300,
  store_unavailable: 50300,
  upstream_timeout: 50400,
};

/** Dify's documented External Knowledge error codes; 403 is the only status its save probe rejects. */
const DIFY_MALFORMED_AUTH = 1001;
const DIFY_AUTH_FAILED = 1002;

function wireBody(error: AppError, surface: ErrorSurface): { status: number; body: unknown } {
  if (surface === "memos") {
    // MemOS answered in its own words: a MemOS client gets that answer, status and envelope,
    // as MemOS gave it. Not when MemOS refused our key: the caller's token was fine (502 below).
    if (error.upstreamEnvelope && error.upstreamStatus !== undefined && error.code !== "upstream_auth") {
      return { status: error.upstreamStatus, body: error.upstreamEnvelope };
    }
    return {
      status: error.status,
      // MemOS's own 40132 would tell a MemOS client its key is wrong; here the caller's token was fine.
      body: {
        code:
          error.code === "upstream_auth" ? MEMOS_CODES.upstream_auth : (error.upstreamCode ?? MEMOS_CODES[error.code]),
        message: error.message,
        data: null,
      },
    };
  }
  if (surface === "dify_knowledge" && error.code === "unauthorized") {
    return {
      status: 403,
      body: {
        error_code: error.malformedCredential ? DIFY_MALFORMED_AUTH : DIFY_AUTH_FAILED,
        error_msg: error.message,
      },
    };
  }
  if (surface === "dify_knowledge") {
    return { status: error.status, body: { error_code: error.status, error_msg: error.message } };
  }
  const detail: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.field !== undefined) detail.field = error.field;
  if (error.upstreamStatus !== undefined) detail.upstream_status = error.upstreamStatus;
  if (error.retryAfter !== undefined) detail.retry_after = error.retryAfter;
  return { status: error.status, body: { ok: false, error: detail } };
}

export function errorResponse(error: AppError, surface: ErrorSurface, headers: Record<string, string> = {}): Response {
  const { status, body } = wireBody(error, surface);
  const out = new Headers(headers);
  out.set("Content-Type", "application/json; charset=utf-8");
  out.set("Cache-Control", "no-store");
  if (error.retryAfter !== undefined) out.set("Retry-After", String(error.retryAfter));
  if (error.allow) out.set("Allow", error.allow.join(", "));
  return new Response(JSON.stringify(body), { status, headers: out });
}

/** MemOS's codes for over-long ids, so the caller learns which field. */
const MEMOS_FIELD_CODES: Record<number, string> = { 40010: "user_id", 40011: "conversation_id" };

function fromMemosError(error: MemosError): AppError {
  const options = {
    upstreamStatus: error.httpStatus,
    upstreamCode: error.memosCode,
    upstreamEnvelope: error.envelope,
    cause: error,
  };
  switch (error.kind) {
    case "auth":
      return new AppError(
        "upstream_auth",
        "MemOS refused memos-edge's API key; check the MEMOS_API_KEY secret.",
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
  return new AppError("internal_error", "Internal error; see the Worker logs for the request id.", { cause: error });
}
