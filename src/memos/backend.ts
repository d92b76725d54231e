/**
 * The one interface handlers talk to. Both the MemOS cloud and the embedded D1
 * store speak MemOS's own request and response vocabulary, so the
 * MemOS-compatible routes pass bodies through and the `/v1` routes shape one
 * answer for both.
 */
import type { BackendResult, MemosAddData, MemosAddRequest, MemosSearchData, MemosSearchRequest } from "./types";

export type BackendKind = "memos" | "local";

export interface MemoryBackend {
  readonly kind: BackendKind;
  /** Largest `memory_limit_number` this backend serves (MemOS caps it at 25). */
  readonly maxSearchLimit: number;
  add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>>;
  search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>>;
}
