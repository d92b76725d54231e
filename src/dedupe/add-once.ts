/**
 * The one way to add: every add surface calls `addOnce`, and one logical add
 * reaches the backend once, however often it is delivered (see deduper.ts).
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import type { BackendResult, MemosAddData, MemosAddRequest } from "../memos/types";
import { Deduper, type Outcome } from "./deduper";
import { addFingerprint } from "./fingerprint";

/** The add's first user (group adds: the first in sort order), else its agent: adds of one user share a lock shard. */
function subjectOf(request: MemosAddRequest): string {
  const users = Array.isArray(request.user_id) ? [...request.user_id].sort() : [request.user_id];
  return users[0] ?? `agent:${request.agent_id ?? ""}`;
}

/** A claim outlives the add's own timeout by this much before it counts as dead. */
const LEASE_MARGIN_MS = 5_000;

/**
 * Adds `request` through the request's backend unless the same add was already
 * made. The `Idempotency-Key` header wins over a key from the body; a replay is
 * marked with `Idempotent-Replayed: true`. The request's log line records a
 * dedupe hit, and a KV or lock failure that was tolerated.
 */
export async function addOnce(
  c: Context<AppEnv>,
  request: MemosAddRequest,
  bodyIdempotencyKey?: string,
): Promise<Outcome<BackendResult<MemosAddData>>> {
  const { backend, log } = c.var;
  const deduper = deduperFor(c);
  const key = {
    scope: c.var.dedupeScope,
    subject: subjectOf(request),
    fingerprint: await addFingerprint(request),
    idempotencyKey: c.req.header("Idempotency-Key")?.trim() || bodyIdempotencyKey,
  };
  const outcome = await deduper.run(key, () => backend.add(request));
  log.dedupe_hit = outcome.replayed;
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  return outcome;
}

/**
 * Before any delete: the caller's completed adds are forgotten, so the same add
 * sent again is stored again. A delete is refused (503) if that cannot be done.
 */
export async function forgetAdds(c: Context<AppEnv>): Promise<void> {
  try {
    await deduperFor(c).forgetScope(c.var.dedupeScope);
  } catch (error) {
    throw new AppError(
      "dedupe_unavailable",
      "The dedupe lock could not be reached, so nothing was deleted (a later re-add could be skipped); retry shortly.",
      { retryAfter: 1, cause: error },
    );
  }
}

function deduperFor(c: Context<AppEnv>): Deduper {
  const { config, log, requestId } = c.var;
  return new Deduper(
    { kv: c.env.DEDUPE, locks: c.env.DEDUPE_LOCK },
    {
      ttlSeconds: config.dedupeTtlSeconds,
      waitMs: config.dedupeWaitMs,
      leaseMs: config.addTimeoutMs + LEASE_MARGIN_MS,
      waitUntil: (work) => c.executionCtx.waitUntil(work),
      onStoreError: (operation, afterAnswer) => {
        if (afterAnswer) console.warn(JSON.stringify({ request_id: requestId, store_error: operation }));
        else log.store_error = operation;
      },
    },
  );
}
