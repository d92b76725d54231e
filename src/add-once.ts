import type { RequestLogFields } from "./app-env";
import type { Config } from "./config";
import { Deduper, type DedupeStores, type Outcome } from "./dedupe";
import { addFingerprint } from "./fingerprint";
import type { MemoryBackend } from "./memos/backend";
import type { BackendResult, MemosAddData, MemosAddRequest } from "./memos/types";

/** A claim outlives the add's own timeout by this much before it counts as dead. */
const LEASE_MARGIN_MS = 5_000;

export interface AddOnceInput {
  backend: MemoryBackend;
  stores: DedupeStores;
  config: Config;
  caller: string;
  request: MemosAddRequest;
  idempotencyKey: string | undefined;
  waitUntil: (work: Promise<unknown>) => void;
  /** For a log line of its own when a store fails after the request's line was written. */
  requestId: string;
  /** The request's log line: gets `dedupe_hit`, and `store_error` when KV or the lock failed. */
  log: RequestLogFields;
}

/** One logical add reaches the backend once, however often it is delivered (see dedupe.ts). */
export async function addOnce(input: AddOnceInput): Promise<Outcome<BackendResult<MemosAddData>>> {
  const deduper = new Deduper(input.stores, {
    ttlSeconds: input.config.dedupeTtlSeconds,
    waitMs: input.config.dedupeWaitMs,
    leaseMs: input.config.addTimeoutMs + LEASE_MARGIN_MS,
    waitUntil: input.waitUntil,
    onStoreError: (operation, afterAnswer) => {
      if (afterAnswer) console.warn(JSON.stringify({ request_id: input.requestId, store_error: operation }));
      else input.log.store_error = operation;
    },
  });
  const fingerprint = await addFingerprint(input.request);
  const outcome = await deduper.run({ caller: input.caller, fingerprint, idempotencyKey: input.idempotencyKey }, () =>
    input.backend.add(input.request),
  );
  input.log.dedupe_hit = outcome.replayed;
  return outcome;
}
