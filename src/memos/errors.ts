/** One error type for every way a MemOS call can fail; the app maps `kind` to an HTTP answer. */
export type MemosFailureKind =
  | "auth" // MemOS refused our key
  | "rejected" // MemOS refused the caller's input (4000x/4001x)
  | "rate_limited"
  | "unavailable" // network error, HTTP 5xx, 5xxxx codes
  | "bad_response" // not the MemOS envelope
  | "timeout";

export class MemosError extends Error {
  readonly kind: MemosFailureKind;
  readonly httpStatus: number | undefined;
  readonly memosCode: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: MemosFailureKind,
    message: string,
    details: { httpStatus?: number; memosCode?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = "MemosError";
    this.kind = kind;
    this.httpStatus = details.httpStatus;
    this.memosCode = details.memosCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
