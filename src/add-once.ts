import { Deduper } from "./dedupe";
import type { Config } from "./config";
import { addFingerprint } from "./fingerprint";
import type { MemoryBackend } from "./memos/backend";
import type { BackendResult, MemosAddData, MemosAddRequest } from "./memos/types";
import type { Outcome } from "./dedupe";

export interface AddOnceInput {
  backend: MemoryBackend;
  kv: KVNamespace;
  config: Config;
  caller: string;
  request: MemosAddRequest;
  idempotencyKey: string | undefined;
  onKvError?: (operation: string, error: unknown) => void;
}

/** One logical add reaches the backend once, however often it is delivered (see dedupe.ts). */
export async function addOnce(input: AddOnceInput): Promise<Outcome<BackendResult<MemosAddData>>> {
  const deduper = new Deduper(input.kv, {
    ttlSeconds: input.config.dedupeTtlSeconds,
    waitMs: input.config.dedupeWaitMs,
    staleAfterMs: input.config.addTimeoutMs + 5_000,
    ...(input.onKvError ? { onKvError: input.onKvError } : {}),
  });
  const fingerprint = await addFingerprint(input.request);
  return deduper.run({ caller: input.caller, fingerprint, idempotencyKey: input.idempotencyKey }, () =>
    input.backend.add(input.request),
  );
}
