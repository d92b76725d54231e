import type { Context } from "hono";
import { addOnce } from "../add-once";
import type { AppEnv } from "../app-env";
import type { Outcome } from "../dedupe";
import type { BackendResult, MemosAddData, MemosAddRequest } from "../memos/types";

/**
 * `addOnce` wired to the request: its backend, stores, caller, log line and
 * `waitUntil`. The `Idempotency-Key` header wins over a body field; a replay
 * is marked with `Idempotent-Replayed: true`.
 */
export async function addInRequest(
  c: Context<AppEnv>,
  request: MemosAddRequest,
  bodyIdempotencyKey?: string,
): Promise<Outcome<BackendResult<MemosAddData>>> {
  const outcome = await addOnce({
    backend: c.var.backend,
    stores: { kv: c.env.DEDUPE, locks: c.env.DEDUPE_LOCK },
    config: c.var.config,
    caller: c.var.caller,
    request,
    idempotencyKey: c.req.header("Idempotency-Key")?.trim() || bodyIdempotencyKey,
    waitUntil: (work) => c.executionCtx.waitUntil(work),
    requestId: c.var.requestId,
    log: c.var.log,
  });
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  return outcome;
}
