/**
 * Runs one logical add once. Dify retries a failed or timed-out HTTP node with
 * the identical body (3 times, 100 ms apart, by default) and webhook senders
 * re-deliver; a retry may arrive while the first attempt is still running.
 *
 * KV key schema (README "KV key schema"):
 *   dedupe:v1:<caller>:key:<sha256(idempotency key)>   when the caller sent one
 *   dedupe:v1:<caller>:body:<add fingerprint>            otherwise
 *   value: {"state":"pending","fingerprint","started_at"}             TTL 60 s
 *          {"state":"done","fingerprint","completed_at","result"}   TTL DEDUPE_TTL_SECONDS
 *
 * Rules:
 *   - "done" is written only after the backend accepted the add, so a failed
 *     add is never remembered and its retry goes through;
 *   - a repeat of a running add waits for it (coalesced in this isolate, polled
 *     in KV across isolates) and replays its answer, or gets 409 after
 *     DEDUPE_WAIT_MS, never a "done" the first one has not reached;
 *   - KV trouble never blocks an add: without a record we add (fail open).
 */
import { AppError } from "./errors";
import { sha256Hex } from "./fingerprint";

const KEY_PREFIX = "dedupe:v1";
/** KV's minimum TTL; a pending marker outlives a crashed attempt by at most this. */
const PENDING_TTL_SECONDS = 60;
const POLL_INTERVAL_MS = 250;

type PendingRecord = { state: "pending"; fingerprint: string; started_at: number };
type DoneRecord<T> = { state: "done"; fingerprint: string; completed_at: number; result: T };
type DedupeRecord<T> = PendingRecord | DoneRecord<T>;

export interface DedupeOptions {
  ttlSeconds: number;
  waitMs: number;
  /** A pending marker older than this belongs to an attempt that died. */
  staleAfterMs: number;
  /** Reports KV failures that were tolerated (logged by the caller). */
  onKvError?: (operation: string, error: unknown) => void;
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

interface Settled {
  fingerprint: string;
  result: unknown;
  replayed: boolean;
}

/** Adds in flight in this isolate, by storage key; concurrent repeats join them instead of racing KV. */
const inFlight = new Map<string, Promise<Settled>>();

/** A repeat whose joined attempt failed tries the add itself once; past that it reports the failure. */
const MAX_TAKEOVERS = 1;


export class Deduper {
  readonly #kv: KVNamespace;
  readonly #options: DedupeOptions;

  constructor(kv: KVNamespace, options: DedupeOptions) {
    this.#kv = kv;
    this.#options = options;
  }

  static async storageKey(key: DedupeKey): Promise<string> {
    if (key.idempotencyKey === undefined) return `${KEY_PREFIX}:${key.caller}:body:${key.fingerprint}`;
    return `${KEY_PREFIX}:${key.caller}:key:${await sha256Hex(key.idempotencyKey)}`;
  }

  async run<T>(key: DedupeKey, attempt: () => Promise<T>): Promise<Outcome<T>> {
    const storageKey = await Deduper.storageKey(key);
    const waitUntil = Date.now() + this.#options.waitMs;
    let takeovers = 0;
    for (;;) {
      const joined = inFlight.get(storageKey);
      if (joined) {
        let settled: Settled;
        try {
          settled = await joined;
        } catch (error) {
          // 409 and 422 hold for the repeat as much as for the first; an upstream failure left
          // nothing remembered, so the repeat takes the add over, once.
          if (error instanceof AppError) throw error;
          if (takeovers++ >= MAX_TAKEOVERS) throw error;
          if (inFlight.get(storageKey) === joined) inFlight.delete(storageKey);
          continue;
        }
        this.#assertSameBody(settled.fingerprint, key.fingerprint);
        return { result: settled.result as T, replayed: true };
      }
      // Registered before any await, so concurrent repeats in this isolate join instead of racing KV.
      const own = this.#settle(storageKey, key.fingerprint, attempt, waitUntil);
      inFlight.set(storageKey, own);
      try {
        const settled = await own;
        return { result: settled.result as T, replayed: settled.replayed };
      } finally {
        if (inFlight.get(storageKey) === own) inFlight.delete(storageKey);
      }
    }
  }

  /** Replays a remembered add, waits for one running elsewhere, or makes it. */
  async #settle(storageKey: string, fingerprint: string, attempt: () => Promise<unknown>, waitUntil: number): Promise<Settled> {
    for (;;) {
      const record = await this.#read(storageKey);
      if (record?.state === "done") {
        this.#assertSameBody(record.fingerprint, fingerprint);
        return { fingerprint: record.fingerprint, result: record.result, replayed: true };
      }
      if (record?.state !== "pending" || Date.now() - record.started_at >= this.#options.staleAfterMs) break;
      this.#assertSameBody(record.fingerprint, fingerprint);
      if (Date.now() >= waitUntil) {
        throw new AppError("add_in_progress", "An identical add is still in progress; retry shortly to get its result.", {
          retryAfter: 1,
        });
      }
      await sleep(POLL_INTERVAL_MS);
    }
    await this.#write(storageKey, { state: "pending", fingerprint, started_at: Date.now() }, PENDING_TTL_SECONDS);
    let result: unknown;
    try {
      result = await attempt();
    } catch (error) {
      await this.#delete(storageKey);
      throw error;
    }
    await this.#write(storageKey, { state: "done", fingerprint, completed_at: Date.now(), result }, this.#options.ttlSeconds);
    return { fingerprint, result, replayed: false };
  }

  #assertSameBody(recorded: string, given: string): void {
    if (recorded !== given) {
      throw new AppError(
        "idempotency_key_reused",
        "This idempotency key was already used with a different body; use a new key for a new add.",
      );
    }
  }

  async #read<T>(storageKey: string): Promise<DedupeRecord<T> | null> {
    try {
      return await this.#kv.get<DedupeRecord<T>>(storageKey, "json");
    } catch (error) {
      this.#options.onKvError?.("get", error);
      return null;
    }
  }

  async #write(storageKey: string, record: DedupeRecord<unknown>, ttlSeconds: number): Promise<void> {
    try {
      await this.#kv.put(storageKey, JSON.stringify(record), { expirationTtl: ttlSeconds });
    } catch (error) {
      this.#options.onKvError?.("put", error);
    }
  }

  async #delete(storageKey: string): Promise<void> {
    try {
      await this.#kv.delete(storageKey);
    } catch (error) {
      this.#options.onKvError?.("delete", error);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
