/**
 * Runs one logical add once. Dify retries a failed or timed-out HTTP node with
 * the identical body (3 times, 100 ms apart, by default) and webhook senders
 * re-deliver; a retry may arrive while the first attempt is still running.
 *
 * Two stores, each for what it is good at (README "Dedupe"):
 *   - The lock (lock.ts) is the source of truth: one Durable Object per shard
 *     of the scope, `dedupe:v2:<scope>:shard:<0..15>`, chosen by the add's
 *     user, holds each key's claim while an attempt runs and its result after.
 *     Many keys share a warm object; no add creates an object of its own.
 *   - KV keeps a copy of each completed add, written once after the answer
 *     (KV takes one write per second per key):
 *       dedupe:v1:<scope>:key:<sha256(idempotency key)>   when the caller sent one
 *       dedupe:v1:<scope>:body:<add fingerprint>            otherwise
 *       value {"fingerprint","completed_at","result"}, TTL DEDUPE_TTL_SECONDS.
 *     It is read only when the lock cannot be reached, and then answers for it.
 *
 * Rules: a record is written only after the backend accepted the add (a failed
 * add is never remembered, so its retry goes through); a repeat of a running
 * add waits for it and replays its answer, or gets 409 after DEDUPE_WAIT_MS;
 * a storage failure never blocks an add (fail open, noted on the log line);
 * after a delete in the scope (`forgetScope`) no earlier add is replayed.
 */
import { AppError } from "../http/errors";
import { sha256Hex } from "../lib/digest";
import type { ClaimAnswer, DedupeLock } from "./lock";

const KEY_PREFIX = "dedupe:v1";
const LOCK_PREFIX = "dedupe:v2";
/**
 * Lock objects per scope. Adds of one user always meet in one shard; 16 keep a
 * busy scope's adds spread (no object is hot) while a delete, which must reach
 * every shard, stays 16 small calls.
 */
export const LOCK_SHARDS = 16;
/** How often a repeat asks whether the add it waits for is done. */
const POLL_INTERVAL_MS = 100;

interface DoneRecord<T> {
  fingerprint: string;
  completed_at: number;
  result: T;
}

export interface DedupeStores {
  kv: KVNamespace;
  locks: DurableObjectNamespace<DedupeLock>;
}

export interface DedupeOptions {
  ttlSeconds: number;
  waitMs: number;
  /** How long a claim holds before it counts as an attempt that died. */
  leaseMs: number;
  /** Keeps the attempt running if the caller disconnects (Dify gives up before MemOS does). */
  waitUntil: (work: Promise<unknown>) => void;
  /** Reports a tolerated storage failure. */
  onStoreError: (operation: string) => void;
}

export interface DedupeKey {
  /** Whose records these are (a caller token's id, or a tenant): two scopes never share records. */
  scope: string;
  /** Whose add it is (its first user, or its agent): picks the lock shard. */
  subject: string;
  fingerprint: string;
  idempotencyKey?: string | undefined;
}

interface ForgetMark {
  forgotten_at: number;
}

export interface Outcome<T> {
  result: T;
  replayed: boolean;
}

export class Deduper {
  readonly #stores: DedupeStores;
  readonly #options: DedupeOptions;

  constructor(stores: DedupeStores, options: DedupeOptions) {
    this.#stores = stores;
    this.#options = options;
  }

  static async storageKey(key: Omit<DedupeKey, "subject">): Promise<string> {
    if (key.idempotencyKey === undefined) return `${KEY_PREFIX}:${key.scope}:body:${key.fingerprint}`;
    return `${KEY_PREFIX}:${key.scope}:key:${await sha256Hex(key.idempotencyKey)}`;
  }

  /** The name of the lock object an add of `subject` in `scope` uses. */
  static async lockName(scope: string, subject: string): Promise<string> {
    return lockShardName(scope, await Deduper.shardOf(subject));
  }

  /** Which of its scope's lock shards an add of `subject` uses. */
  static async shardOf(subject: string): Promise<number> {
    const digest = await sha256Hex(subject);
    return Number.parseInt(digest.slice(0, 8), 16) % LOCK_SHARDS;
  }

  async run<T>(key: DedupeKey, attempt: () => Promise<T>): Promise<Outcome<T>> {
    const [storageKey, lockName] = await Promise.all([
      Deduper.storageKey(key),
      Deduper.lockName(key.scope, key.subject),
    ]);
    const lock = new LockClient(this.#stores.locks, lockName, storageKey);

    const owner = crypto.randomUUID();
    // When a repeat stops waiting for the attempt it found running (not ctx.waitUntil).
    const giveUpAt = Date.now() + this.#options.waitMs;
    let sawBusy = false;
    for (;;) {
      const answer = await lock.claim(key.fingerprint, owner, this.#options.leaseMs);
      if (answer.state === "done") return this.#replay(answer.fingerprint, answer.result as T, key.fingerprint);
      if (answer.state === "claimed") break;
      if (answer.state === "busy") {
        assertSameBody(answer.fingerprint, key.fingerprint);
        sawBusy = true;
      } else if (!sawBusy) {
        // The lock is unreachable and nobody was seen holding it: KV's copy answers if it
        // has one (and no delete came after it), else add without the lock (fail open).
        this.#options.onStoreError("lock.claim");
        const recorded = await this.#readRecord<T>(storageKey);
        if (recorded && (await this.#forgottenBefore(key.scope, recorded.completed_at)) === false) {
          return this.#replay(recorded.fingerprint, recorded.result, key.fingerprint);
        }
        break;
      }
      // Once another attempt was seen running, an unreachable lock means wait, not add:
      // adding now could be the second upstream add.
      if (Date.now() >= giveUpAt) {
        throw new AppError(
          "add_in_progress",
          "An identical add is still in progress; retry shortly to get its result.",
          {
            retryAfter: 1,
          },
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }

    const work = this.#attempt(lock, storageKey, owner, key.fingerprint, attempt);
    this.#options.waitUntil(work.catch(() => undefined));
    return { result: await work, replayed: false };
  }

  /**
   * A delete happened in `scope`: no add completed before it may be replayed.
   * Every shard forgets (throws if one cannot, so the caller refuses the delete
   * rather than risk swallowing a re-add), and a mark in KV covers the fallback
   * path where the lock cannot be reached.
   */
  async forgetScope(scope: string): Promise<void> {
    await Promise.all(
      Array.from({ length: LOCK_SHARDS }, (_, shard) =>
        this.#stores.locks.getByName(lockShardName(scope, shard)).forget(),
      ),
    );
    const mark: ForgetMark = { forgotten_at: Date.now() };
    await this.#guard("kv.put", () =>
      this.#stores.kv.put(`${KEY_PREFIX}:${scope}:forgotten`, JSON.stringify(mark), {
        expirationTtl: this.#options.ttlSeconds,
      }),
    );
  }

  async #attempt<T>(
    lock: LockClient,
    storageKey: string,
    owner: string,
    fingerprint: string,
    attempt: () => Promise<T>,
  ): Promise<T> {
    let result: T;
    try {
      result = await attempt();
    } catch (error) {
      await this.#guard("lock.release", () => lock.release(owner));
      throw error;
    }
    // The lock is the source of truth, so the caller is answered once it knows; the KV copy
    // is written after the answer.
    await this.#guard("lock.complete", () =>
      lock.complete(owner, fingerprint, result, this.#options.ttlSeconds * 1000),
    );
    const record: DoneRecord<T> = { fingerprint, completed_at: Date.now(), result };
    this.#options.waitUntil(
      this.#guard("kv.put", () =>
        this.#stores.kv.put(storageKey, JSON.stringify(record), { expirationTtl: this.#options.ttlSeconds }),
      ),
    );
    return result;
  }

  #replay<T>(recorded: string, result: T, given: string): Outcome<T> {
    assertSameBody(recorded, given);
    return { result, replayed: true };
  }

  /** Whether a delete in `scope` came after `completedAt` (unknown when KV fails: then yes). */
  async #forgottenBefore(scope: string, completedAt: number): Promise<boolean> {
    try {
      const mark = await this.#stores.kv.get<ForgetMark>(`${KEY_PREFIX}:${scope}:forgotten`, "json");
      return mark !== null && mark.forgotten_at >= completedAt;
    } catch {
      return true;
    }
  }

  async #readRecord<T>(storageKey: string): Promise<DoneRecord<T> | null> {
    let record: Partial<DoneRecord<T>> | null;
    try {
      record = await this.#stores.kv.get<Partial<DoneRecord<T>>>(storageKey, "json");
    } catch {
      this.#options.onStoreError("kv.get");
      return null;
    }
    // Anything else under the key (a record of another shape) is no proof of a completed add.
    if (!record || typeof record.fingerprint !== "string" || record.result === undefined) return null;
    return record as DoneRecord<T>;
  }

  async #guard(operation: string, action: () => Promise<unknown> | unknown): Promise<void> {
    try {
      await action();
    } catch {
      this.#options.onStoreError(operation);
    }
  }
}

export function lockShardName(scope: string, shard: number): string {
  return `${LOCK_PREFIX}:${scope}:shard:${shard}`;
}

/** One dedupe key's view of its lock object; a fresh stub per call (after a stub throws, it stays broken). */
class LockClient {
  readonly #locks: DurableObjectNamespace<DedupeLock>;
  readonly #name: string;
  readonly #key: string;

  constructor(locks: DurableObjectNamespace<DedupeLock>, name: string, key: string) {
    this.#locks = locks;
    this.#name = name;
    this.#key = key;
  }

  /** The lock's answer, or `unreachable` when the Durable Object could not be asked. */
  async claim(fingerprint: string, owner: string, leaseMs: number): Promise<ClaimAnswer | { state: "unreachable" }> {
    try {
      return await this.#stub().claim(this.#key, fingerprint, owner, leaseMs);
    } catch {
      return { state: "unreachable" };
    }
  }

  complete(owner: string, fingerprint: string, result: unknown, ttlMs: number) {
    return this.#stub().complete(this.#key, owner, fingerprint, result, ttlMs);
  }

  release(owner: string) {
    return this.#stub().release(this.#key, owner);
  }

  #stub(): DurableObjectStub<DedupeLock> {
    return this.#locks.getByName(this.#name);
  }
}

export function assertSameBody(recorded: string, given: string): void {
  if (recorded !== given) {
    throw new AppError(
      "idempotency_key_reused",
      "This idempotency key was already used with a different body; use a new key for a new add.",
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
