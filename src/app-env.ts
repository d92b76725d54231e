import type { Bindings, Config } from "./config";
import type { MemoryBackend } from "./memos/backend";

export interface AppVariables {
  requestId: string;
  config: Config;
  backend: MemoryBackend;
  /** Non-secret id of the caller's token, set by `requireCaller`. */
  caller: string;
  /** Facts for the request's log line, filled in by handlers. */
  log: RequestLogFields;
}

export interface RequestLogFields {
  dedupe_hit?: boolean;
  /** A dedupe store operation (KV or the lock) that failed and was tolerated: dedupe fails open. */
  store_error?: string;
  upstream_status?: number;
  error_code?: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}
