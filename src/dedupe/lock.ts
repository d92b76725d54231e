/**
 * One Durable Object per dedupe key: the in-flight lock that KV cannot be.
 * KV has no compare-and-set, is eventually consistent, and takes one write
 * per second per key, so "is an identical add running right now?" is asked
 * here, where calls are serialised and storage is strongly consistent.
 * Completed adds are also mirrored to KV, which answers most replays at the
 * edge without a trip to this object.
 *
 * Storage (SQLite-backed, synchronous KV API):
 *   "claim" → { fingerprint, owner, lease_until }   while an attempt runs
 *   "done"  → { fingerprint, result, expires_at }    after the backend accepted
 * An alarm drops the done record when it expires.
 */
import { DurableObject } from "cloudflare:workers";

interface Claim {
  fingerprint: string;
  owner: string;
  lease_until: number;
}

interface Done {
  fingerprint: string;
  result: unknown;
  expires_at: number;
}

export type ClaimAnswer =
  | { state: "claimed" }
  | { state: "busy"; fingerprint: string }
  | { state: "done"; fingerprint: string; result: unknown };

export class DedupeLock extends DurableObject {
  /** Take the lock for `owner`, unless the add is done or another live attempt holds it. */
  async claim(fingerprint: string, owner: string, leaseMs: number): Promise<ClaimAnswer> {
    const now = Date.now();
    const storage = this.ctx.storage.kv;
    const done = storage.get<Done>("done");
    if (done && done.expires_at > now) return { state: "done", fingerprint: done.fingerprint, result: done.result };
    const claim = storage.get<Claim>("claim");
    // An expired lease belongs to an attempt that died (isolate evicted, request cancelled).
    if (claim && claim.owner !== owner && claim.lease_until > now)
      return { state: "busy", fingerprint: claim.fingerprint };
    const leaseUntil = now + leaseMs;
    storage.put<Claim>("claim", { fingerprint, owner, lease_until: leaseUntil });
    // So a claim whose attempt died is dropped, not kept forever.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(leaseUntil);
    return { state: "claimed" };
  }

  /**
   * Record an add the backend accepted, kept until `ttlMs` from now, and free the lock if
   * `owner` still holds it. Recorded even if the lease passed to another attempt meanwhile:
   * MemOS has the add, and repeats must learn it.
   */
  async complete(owner: string, fingerprint: string, result: unknown, ttlMs: number): Promise<void> {
    const storage = this.ctx.storage.kv;
    const expiresAt = Date.now() + ttlMs;
    const done = storage.get<Done>("done");
    if (!done || done.expires_at <= Date.now())
      storage.put<Done>("done", { fingerprint, result, expires_at: expiresAt });
    if (storage.get<Claim>("claim")?.owner === owner) storage.delete("claim");
    await this.ctx.storage.setAlarm(expiresAt);
  }

  /** Free the lock after a failed attempt, so the next delivery makes the add. */
  release(owner: string): void {
    const storage = this.ctx.storage.kv;
    if (storage.get<Claim>("claim")?.owner === owner) storage.delete("claim");
  }

  /** Drops what has expired and wakes again for what has not. */
  override async alarm(): Promise<void> {
    const storage = this.ctx.storage.kv;
    const now = Date.now();
    const done = storage.get<Done>("done");
    if (done && done.expires_at <= now) storage.delete("done");
    const claim = storage.get<Claim>("claim");
    if (claim && claim.lease_until <= now) storage.delete("claim");
    const next = Math.min(
      ...[storage.get<Done>("done")?.expires_at, storage.get<Claim>("claim")?.lease_until].filter(
        (at): at is number => at !== undefined,
      ),
    );
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }
}
