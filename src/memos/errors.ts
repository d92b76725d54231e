/** One error type for every way a MemOS call can fail; the app maps `kind` to an HTTP answer. */
export type MemosFailureKind =
  | "auth" // MemOS refused our key
  | "rejected" // MemOS refused the caller's input (4000x/4001x)
  | "rate_limited"
  | "unavailable" // network error, HTTP 5xx, 5xxxx codes
  | "bad_response" // not the MemOS envelope
  | "timeout";

/** MemOS's own answer, key redacted: what MemOS-compatible callers get back as MemOS gave it. */
export interface MemosEnvelope {
  code: number;
  message: string;
  data: unknown;
}

export interface MemosErrorDetails {
  httpStatus?: number;
  memosCode?: number;
  retryAfterSeconds?: number;
  envelope?: MemosEnvelope;
  /** The secret that holds the credential upstream refused (default `MEMOS_API_KEY`). */
  credential?: string;
  cause?: unknown;
}

export class MemosError extends Error {
  readonly kind: MemosFailureKind;
  readonly httpStatus: number | undefined;
  readonly memosCode: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly envelope: MemosEnvelope | undefined;
  readonly credential: string | undefined;

  constructor(kind: MemosFailureKind, message: string, details: MemosErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = "MemosError";
    this.kind = kind;
    this.httpStatus = details.httpStatus;
    this.memosCode = details.memosCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.envelope = details.envelope;
    this.credential = details.credential;
  }
}

/**
 * A call the configured backend has no equivalent for (the self-hosted server
 * cannot update a memory, say): the caller's to change, so a 400 that says
 * what to do instead, and never a pretended success.
 */
export class UnsupportedCallError extends Error {
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = "UnsupportedCallError";
    this.field = field;
  }
}
