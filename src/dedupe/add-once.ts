/**
 * The one way to add: every add surface calls `addOnce`, the queue consumer
 * calls `addDeduped` (what `addOnce` runs), and one logical add reaches the
 * backend once, however often it is delivered (see deduper.ts).
 */
import type { Context } from "hono";
import type { Config } from "../config";
import type { AppEnv, Bindings } from "../env";
import { callerId } from "../http/auth";
import { AppError } from "../http/errors";
import { runAfterAnswer } from "../http/middleware";
import { TenantConfigError } from "../tenants/config";
import type { MemoryBackend } from "../memos/backend";
import type { BackendResult, MemosAddData, MemosAddRequest } from "../memos/types";
import { Deduper, type DedupeKey, type Outcome } from "./deduper";
import { addFingerprint } from "./fingerprint";

/** The add's first user (group adds: the first in sort order), else its agent: adds of one user share a lock shard. */
export function subjectOf(request: MemosAddRequest): string {
  const users = Array.isArray(request.user_id) ? [...request.user_id].sort() : [request.user_id];
  return users[0] ?? `agent:${request.agent_id ?? ""}`;
}

/** A claim outlives the add's own timeout by this much before it counts as dead. */
const LEASE_MARGIN_MS = 5_000;

/** What an add needs besides the add itself; a request and the queue consumer each make one. */
export interface AddDeps {
  env: Bindings;
  config: Config;
  backend: MemoryBackend;
  waitUntil: (work: Promise<unknown>) => void;
  /** A tolerated KV or lock failure. */
  onStoreError: (operation: string) => void;
}

/** The dedupe identity of `request` in `scope` (a caller): the same for a direct and a queued add. */
export async function dedupeKeyOf(
  scope: string,
  request: MemosAddRequest,
  idempotencyKey: string | undefined,
): Promise<DedupeKey> {
  return { scope, subject: subjectOf(request), fingerprint: await addFingerprint(request), idempotencyKey };
}

/** Adds `request` through the backend unless the add of `key` was already made. */
export function addDeduped(
  deps: AddDeps,
  key: DedupeKey,
  request: MemosAddRequest,
): Promise<Outcome<BackendResult<MemosAddData>>> {
  return deduperFor(deps).run(key, () => deps.backend.add(request));
}

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
  const key = await dedupeKeyOf(c.var.dedupeScope, request, idempotencyKeyOf(c, bodyIdempotencyKey));
  const outcome = await addDeduped(requestDeps(c), key, request);
  c.var.log.dedupe_hit = outcome.replayed;
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  return outcome;
}

/** The `Idempotency-Key` header wins over a key from the body. */
export function idempotencyKeyOf(c: Context<AppEnv>, bodyIdempotencyKey: string | undefined): string | undefined {
  return c.req.header("Idempotency-Key")?.trim() || bodyIdempotencyKey;
}

/**
 * Before any delete: the caller's completed adds are forgotten, so the same add
 * sent again is stored again. A delete is refused (503) if that cannot be done.
 */
export async function forgetAdds(c: Context<AppEnv>): Promise<void> {
  try {
    const deduper = deduperFor(requestDeps(c));
    await Promise.all((await scopesOfSpace(c)).map((scope) => deduper.forgetScope(scope)));
  } catch (error) {
    throw new AppError(
      "dedupe_unavailable",
      "The dedupe lock could not be reached, so nothing was deleted (a later re-add could be skipped); retry shortly.",
      { retryAfter: 1, cause: error },
    );
  }
}

/**
 * A request's add dependencies: work after the answer is the request's late
 * work (its log line waits for it), and a tolerated store failure goes on that line.
 */
export function requestDeps(c: Context<AppEnv>): AddDeps {
  const { config, backend, log } = c.var;
  return {
    env: c.env,
    config,
    backend,
    waitUntil: (work) => runAfterAnswer(c, work),
    onStoreError: (operation) => {
      log.store_error = operation;
    },
  };
}

function deduperFor(deps: AddDeps): Deduper {
  return new Deduper(
    { kv: deps.env.DEDUPE, locks: deps.env.DEDUPE_LOCK },
    {
      ttlSeconds: deps.config.dedupeTtlSeconds,
      waitMs: deps.config.dedupeWaitMs,
      leaseMs: deps.config.addTimeoutMs + LEASE_MARGIN_MS,
      waitUntil: deps.waitUntil,
      onStoreError: deps.onStoreError,
    },
  );
}

/**
 * The dedupe scopes whose adds a delete can affect: a tenant's one scope, or in
 * the shared space every shared token's (dedupe is per token there, the memory
 * space is not: a delete by one token must let another token's re-add through).
 */
async function scopesOfSpace(c: Context<AppEnv>): Promise<string[]> {
  const table = c.var.config.tenants;
  if (c.var.tenant.name !== null || table instanceof TenantConfigError) return [c.var.dedupeScope];
  const shared = table.tokens.filter((_token, index) => table.tenants[index]?.name === null);
  return Promise.all(shared.map((token) => callerId(token)));
}
