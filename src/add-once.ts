import type { RequestLogFields } from "./app-env";
import type { Config } from "./config";
import { Deduper, type Outcome } from "./dedupe";
import { addFingerprint } from "./fingerprint";
import type { MemoryBackend } from "./memos/backend";
import type { BackendResult, MemosAddData, MemosAddRequest } from "./memos/types";

export interface AddOnceInput {
  backend: MemoryBackend;
  kv: KVNamespace;
  config: Config;
  caller: string;
  request: MemosAddRequest;
  idempotencyKey: string | undefined;
  /** The request's log line: gets `dedupe_hit`, and `kv_error` when KV failed. */
  log: RequestLogFields;
}

/** One logical add reaches the backend once, however often it is delivered (see dedupe.ts). */
export async function addOnce(input: AddOnceInput): Promise<Outcome<BackendResult<MemosAddData>>> {
  const deduper = new Deduper(input.kv, {
    ttlSeconds: input.config.dedupeTtlSeconds,
    waitMs: input.config.dedupeWaitMs,
    staleAfterMs: input.config.addTimeoutMs + 5_000,
    onKvError: (operation) => {
      input.log.kv_error = operation;
    },
  });
  const fingerprint = await addFingerprint(input.request);
  const outcome = await deduper.run({ caller: input.caller, fingerprint, idempotencyKey: input.idempotencyKey }, () =>
    input.backend.add(input.request),
  );
  input.log.dedupe_hit = outcome.replayed;
  return outcome;
}
