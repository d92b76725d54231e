/**
 * Runs one logical add once. Dify retries a failed or timed-out HTTP node with
 * the identical body (3 times, 100 ms apart, by default) and webhook senders
 * re-deliver; a retry may arrive while the first attempt is still running.
 *
 * Two stores, each for what it is good at (README "Dedupe"):
 *   - KV holds completed adds, so a replay is answered at the edge:
 *       dedupe:v1:<caller>:key:<sha256(idempotency key)>   when the caller sent one
 *       dedupe:v1:<caller>:body:<add fingerprint>            otherwise
 *       value {"fingerprint","completed_at","result"}, TTL DEDUPE_TTL_SECONDS,
 *       written once per key (KV takes one write per second per key).
 *   - A Durable Object per key (lock.ts) is the in-flight lock: KV has
 *     no compare-and-set and is eventually consistent, so it cannot say
 *     "an identical add is running right now" reliably.
 *
 * Rules: a record is written only after the backend accepted the add (a failed
 * add is never remembered, so its retry goes through); a repeat of a running
 * add waits for it and replays its answer, or gets 409 after DEDUPE_WAIT_MS;
 * a storage failure never blocks an add (fail open, noted on the log line).
 */
import { AppError } from "../http/errors";
import { sha256Hex } from "../lib/digest";
import type { ClaimAnswer, DedupeLock } from "./lock";

const KEY_PREFIX = "dedupe:v1";
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
  /** Reports tolerated storage failures; `afterAnswer` when the request's log line is already written. */
  onStoreError: (operation: string, afterAnswer?: boolean) => void;
}

export interface DedupeKey {
  /** Non-secret id of the caller's token: two callers never share records. */
  caller: string;
  fingerprint: string;
  idempotencyKey?: string | undefined;
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

  static async storageKey(key: DedupeKey): Promise<string> {
    if (key.idempotencyKey === undefined) return `${KEY_PREFIX}:${key.caller}:body:${key.fingerprint}`;
    return `${KEY_PREFIX}:${key.caller}:key:${await sha256Hex(key.idempotencyKey)}`;
  }

  async run<T>(key: DedupeKey, attempt: () => Promise<T>): Promise<Outcome<T>> {
    const storageKey = await Deduper.storageKey(key);
    const recorded = await this.#readRecord<T>(storageKey);
    if (recorded) return this.#replay(recorded.fingerprint, recorded.result, key.fingerprint);

    const owner = crypto.randomUUID();
    // When a repeat stops waiting for the attempt it found running (not ctx.waitUntil).
    const giveUpAt = Date.now() + this.#options.waitMs;
    let sawBusy = false;
    for (;;) {
      const answer = await this.#claim(storageKey, key.fingerprint, owner);
      if (answer.state === "done") return this.#replay(answer.fingerprint, answer.result as T, key.fingerprint);
      if (answer.state === "claimed") break;
      if (answer.state === "busy") {
        assertSameBody(answer.fingerprint, key.fingerprint);
        sawBusy = true;
      } else if (!sawBusy) {
        // The lock is unreachable and nobody was seen holding it: add without it (fail open).
        this.#options.onStoreError("lock.claim");
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

    const work = this.#attempt(storageKey, owner, key.fingerprint, attempt);
    this.#options.waitUntil(work.catch(() => undefined));
    return { result: await work, replayed: false };
  }

  async #attempt<T>(storageKey: string, owner: string, fingerprint: string, attempt: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await attempt();
    } catch (error) {
      await this.#guard("lock.release", () => this.#lock(storageKey).release(owner));
      throw error;
    }
    // The lock is the source of truth, so the caller is answered once it knows; the KV copy
    // (a cache for replays at the edge) is written after the answer.
    await this.#guard("lock.complete", () =>
      this.#lock(storageKey).complete(owner, fingerprint, result, this.#options.ttlSeconds * 1000),
    );
    const record: DoneRecord<T> = { fingerprint, completed_at: Date.now(), result };
    this.#options.waitUntil(
      this.#guard(
        "kv.put",
        () => this.#stores.kv.put(storageKey, JSON.stringify(record), { expirationTtl: this.#options.ttlSeconds }),
        true,
      ),
    );
    return result;
  }

  #replay<T>(recorded: string, result: T, given: string): Outcome<T> {
    assertSameBody(recorded, given);
    return { result, replayed: true };
  }

  /** A fresh stub per call: after a stub throws, every later call on it fails too. */
  #lock(storageKey: string): DurableObjectStub<DedupeLock> {
    return this.#stores.locks.getByName(storageKey);
  }

  /** The lock's answer, or `unreachable` when the Durable Object could not be asked. */
  async #claim(
    storageKey: string,
    fingerprint: string,
    owner: string,
  ): Promise<ClaimAnswer | { state: "unreachable" }> {
    try {
      return await this.#lock(storageKey).claim(fingerprint, owner, this.#options.leaseMs);
    } catch {
      return { state: "unreachable" };
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

  async #guard(operation: string, action: () => Promise<unknown> | unknown, afterAnswer = false): Promise<void> {
    try {
      await action();
    } catch {
      this.#options.onStoreError(operation, afterAnswer);
    }
  }
}

function assertSameBody(recorded: string, given: string): void {
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
