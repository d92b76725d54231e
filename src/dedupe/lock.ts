/**
 * The in-flight lock that KV cannot be, one Durable Object per shard of a
 * dedupe scope (deduper.ts picks the shard from the add's user). KV has no
 * compare-and-set, is eventually consistent, and takes one write per second
 * per key, so "is an identical add running, or done?" is asked here, where
 * calls are serialised and storage is strongly consistent. Many dedupe keys
 * share one object, so a fresh add reuses a warm object instead of creating one.
 *
 * Storage (SQLite):
 *   entries(key, fingerprint, owner, lease_until, result, expires_at)
 *     a claim while an attempt runs (owner, lease_until), then the add the
 *     backend accepted (result, expires_at), per dedupe key
 *   meta('generation')
 *     bumped by `forget` (a delete in the scope): adds claimed before it are
 *     not recorded when they complete, so a re-add after the delete is made again
 *   tasks(task_id, key, status, record, expires_at)
 *     the status of each queued add (src/queue/), in the shard of its dedupe
 *     key, kept DEDUPE_TTL_SECONDS after its last change: `key` finds the live
 *     task of an add enqueued again, `record` is its TaskRecord as JSON
 * An alarm drops what has expired.
 */
import { DurableObject } from "cloudflare:workers";

/** A queued add's state (README "Queued adds"). */
export type TaskStatus = "queued" | "sent" | "completed" | "failed";

export interface TaskRecord {
  task_id: string;
  status: TaskStatus;
  /** The add's dedupe storage key; null once a delete made its completed add forgettable. */
  key: string | null;
  fingerprint: string;
  created_at: number;
  updated_at: number;
  /** Deliveries tried so far. */
  attempts: number;
  /** MemOS's own task, once the backend took the add. */
  memos_task_id: string | null;
  memos_status: string | null;
  /** The backend had the add already (a repeat); nothing was sent again. */
  deduplicated: boolean;
  /** Why the last delivery failed (an error code and our message, never a secret). */
  error_code: string | null;
  reason: string | null;
  /** The queue message of a failed add (JSON), kept so an operator can re-queue it. */
  message: string | null;
}

export type TaskPatch = Partial<Omit<TaskRecord, "task_id" | "created_at" | "updated_at">>;

export type OpenTaskAnswer = { created: true; task: TaskRecord } | { created: false; task: TaskRecord };

const FINISHED: ReadonlySet<TaskStatus> = new Set(["sent", "completed"]);

export type ClaimAnswer =
  | { state: "claimed" }
  | { state: "busy"; fingerprint: string }
  | { state: "done"; fingerprint: string; result: unknown };

interface Entry {
  [column: string]: SqlStorageValue;
  key: string;
  fingerprint: string;
  owner: string | null;
  lease_until: number | null;
  result: string | null;
  expires_at: number | null;
  generation: number | null;
}

export class DedupeLock extends DurableObject {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS entries (
      key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, owner TEXT, lease_until INTEGER, result TEXT, expires_at INTEGER,
      generation INTEGER)`);
    this.#sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS tasks (
      task_id TEXT PRIMARY KEY, key TEXT, status TEXT NOT NULL, record TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
    this.#sql.exec("CREATE INDEX IF NOT EXISTS tasks_key ON tasks (key)");
  }

  /**
   * Records a queued add, unless the same add (same dedupe key) is already
   * queued or delivered and not forgotten: then that task is answered, and the
   * caller retrying its enqueue gets the same task id and no second message.
   */
  async openTask(task: TaskRecord, ttlMs: number): Promise<OpenTaskAnswer> {
    const now = Date.now();
    if (task.key !== null) {
      const live = this.#sql
        .exec<{ record: string }>(
          "SELECT record FROM tasks WHERE key = ? AND status != 'failed' AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
          task.key,
          now,
        )
        .toArray()[0];
      if (live) return { created: false, task: JSON.parse(live.record) as TaskRecord };
    }
    await this.#writeTask(task, now + ttlMs);
    return { created: true, task };
  }

  /**
   * Merges `patch` into a task (creating it if its record was never written,
   * say the lock was unreachable at enqueue). A delivered add is never turned
   * back into queued or failed by a late or duplicate delivery.
   */
  async updateTask(taskId: string, patch: TaskPatch, ttlMs: number): Promise<TaskRecord> {
    const now = Date.now();
    const current = this.getTask(taskId);
    if (current && FINISHED.has(current.status) && patch.status !== undefined && !FINISHED.has(patch.status)) {
      return current;
    }
    const base = current ?? newTask(taskId, null, "");
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    const task: TaskRecord = { ...base, ...defined, task_id: taskId, updated_at: now };
    await this.#writeTask(task, now + ttlMs);
    return task;
  }

  getTask(taskId: string): TaskRecord | null {
    const row = this.#sql
      .exec<{ record: string }>("SELECT record FROM tasks WHERE task_id = ? AND expires_at > ?", taskId, Date.now())
      .toArray()[0];
    return row ? (JSON.parse(row.record) as TaskRecord) : null;
  }

  /** Tasks in `status`, oldest first. */
  listTasks(status: TaskStatus, limit: number): TaskRecord[] {
    return this.#sql
      .exec<{ record: string }>(
        "SELECT record FROM tasks WHERE status = ? AND expires_at > ? ORDER BY expires_at LIMIT ?",
        status,
        Date.now(),
        limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.record) as TaskRecord);
  }

  /** The enqueue failed: the task never existed. */
  dropTask(taskId: string): void {
    this.#sql.exec("DELETE FROM tasks WHERE task_id = ?", taskId);
  }

  async #writeTask(task: TaskRecord, expiresAt: number): Promise<void> {
    this.#sql.exec(
      `INSERT INTO tasks (task_id, key, status, record, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET key = excluded.key, status = excluded.status, record = excluded.record,
         expires_at = excluded.expires_at`,
      task.task_id,
      task.key,
      task.status,
      JSON.stringify(task),
      expiresAt,
    );
    await this.#wakeBy(expiresAt);
  }

  /** Take the lock on `key` for `owner`, unless the add is done or another live attempt holds it. */
  async claim(key: string, fingerprint: string, owner: string, leaseMs: number): Promise<ClaimAnswer> {
    const now = Date.now();
    const entry = this.#entry(key);
    if (entry?.result != null && (entry.expires_at ?? 0) > now) {
      return { state: "done", fingerprint: entry.fingerprint, result: JSON.parse(entry.result) };
    }
    // An expired lease belongs to an attempt that died (isolate evicted, request cancelled).
    if (entry?.owner != null && entry.owner !== owner && (entry.lease_until ?? 0) > now) {
      return { state: "busy", fingerprint: entry.fingerprint };
    }
    const leaseUntil = now + leaseMs;
    this.#sql.exec(
      `INSERT INTO entries (key, fingerprint, owner, lease_until, generation) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, owner = excluded.owner,
         lease_until = excluded.lease_until, generation = excluded.generation, result = NULL, expires_at = NULL`,
      key,
      fingerprint,
      owner,
      leaseUntil,
      this.#generation(),
    );
    // So a claim whose attempt died is dropped, not kept forever.
    await this.#wakeBy(leaseUntil);
    return { state: "claimed" };
  }

  /**
   * Record an add the backend accepted, kept until `ttlMs` from now, and free the lock if
   * `owner` still holds it. Recorded even if the lease passed to another attempt meanwhile:
   * MemOS has the add, and repeats must learn it. Not recorded when a delete happened since
   * the claim (the generation changed): the add may be among what was deleted.
   */
  async complete(key: string, owner: string, fingerprint: string, result: unknown, ttlMs: number): Promise<void> {
    const now = Date.now();
    const expiresAt = now + ttlMs;
    const entry = this.#entry(key);
    const recorded = entry?.result != null && (entry.expires_at ?? 0) > now;
    if (entry?.generation != null && entry.generation !== this.#generation()) {
      if (entry?.owner === owner && !recorded) this.#sql.exec("DELETE FROM entries WHERE key = ?", key);
      return;
    }
    if (!recorded) {
      this.#sql.exec(
        `INSERT INTO entries (key, fingerprint, result, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result,
           expires_at = excluded.expires_at,
           owner = CASE WHEN entries.owner = ? THEN NULL ELSE entries.owner END,
           lease_until = CASE WHEN entries.owner = ? THEN NULL ELSE entries.lease_until END`,
        key,
        fingerprint,
        JSON.stringify(result),
        expiresAt,
        owner,
        owner,
      );
    } else if (entry?.owner === owner) {
      this.#sql.exec("UPDATE entries SET owner = NULL, lease_until = NULL WHERE key = ?", key);
    }
    await this.#wakeBy(expiresAt);
  }

  /** Free the lock after a failed attempt, so the next delivery makes the add. */
  release(key: string, owner: string): void {
    this.#sql.exec("DELETE FROM entries WHERE key = ? AND owner = ? AND result IS NULL", key, owner);
    this.#sql.exec("UPDATE entries SET owner = NULL, lease_until = NULL WHERE key = ? AND owner = ?", key, owner);
  }

  /**
   * A delete happened in this scope: every completed add is forgotten, and adds
   * running now will not be recorded. Returns the new generation.
   */
  forget(): number {
    const next = this.#generation() + 1;
    this.#sql.exec(
      "INSERT INTO meta (name, value) VALUES ('generation', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      next,
    );
    this.#generationNow = next;
    this.#sql.exec("DELETE FROM entries WHERE result IS NOT NULL");
    // A delivered queued add keeps its status, but the same add enqueued again is a new add.
    this.#sql.exec("UPDATE tasks SET key = NULL WHERE status IN ('sent', 'completed')");
    return next;
  }

  /** Drops what has expired and wakes again for what has not. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    // Objects of the previous layout (one per key, KV-style storage) are simply emptied.
    if (this.ctx.storage.kv.get("claim") !== undefined || this.ctx.storage.kv.get("done") !== undefined) {
      this.ctx.storage.kv.delete("claim");
      this.ctx.storage.kv.delete("done");
    }
    const now = Date.now();
    this.#sql.exec("DELETE FROM entries WHERE result IS NOT NULL AND expires_at <= ?", now);
    this.#sql.exec("DELETE FROM entries WHERE result IS NULL AND (lease_until IS NULL OR lease_until <= ?)", now);
    this.#sql.exec("UPDATE entries SET owner = NULL, lease_until = NULL WHERE lease_until <= ?", now);
    this.#sql.exec("DELETE FROM tasks WHERE expires_at <= ?", now);
    const next = this.#sql
      .exec<{ next: number | null }>(
        `SELECT MIN(
           COALESCE((SELECT MIN(MIN(COALESCE(expires_at, 9e15)), MIN(COALESCE(lease_until, 9e15))) FROM entries), 9e15),
           (SELECT COALESCE(MIN(expires_at), 9e15) FROM tasks)) AS next`,
      )
      .one().next;
    if (next !== null && next < 9e15) {
      await this.ctx.storage.setAlarm(next);
      this.#alarmAt = next;
    }
  }

  #entry(key: string): Entry | undefined {
    return this.#sql.exec<Entry>("SELECT * FROM entries WHERE key = ?", key).toArray()[0];
  }

  // A Durable Object runs one call at a time and is the only writer of its storage, so what it
  // last read or wrote is kept in memory: a fresh add then costs no storage read for either.
  #generationNow: number | undefined;
  /** The alarm's time as last set or read; null when none is set; undefined until read. */
  #alarmAt: number | null | undefined;

  #generation(): number {
    this.#generationNow ??=
      this.#sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'generation'").toArray()[0]?.value ?? 0;
    return this.#generationNow;
  }

  /** The alarm fires by `at` at the latest (one alarm per object, at its earliest deadline). */
  async #wakeBy(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt === null || this.#alarmAt > at) {
      await this.ctx.storage.setAlarm(at);
      this.#alarmAt = at;
    }
  }
}

/** A fresh record for an add about to be enqueued (or first heard of on delivery). */
export function newTask(taskId: string, key: string | null, fingerprint: string): TaskRecord {
  const now = Date.now();
  return {
    task_id: taskId,
    status: "queued",
    key,
    fingerprint,
    created_at: now,
    updated_at: now,
    attempts: 0,
    memos_task_id: null,
    memos_status: null,
    deduplicated: false,
    error_code: null,
    reason: null,
    message: null,
  };
}
