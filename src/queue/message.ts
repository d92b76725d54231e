/**
 * What a queued add carries through Cloudflare Queues: everything the
 * consumer needs to make the same deduped add a direct request makes, with no
 * request around it. Parsed on delivery, so a message of another shape (an
 * older layout, a hand-sent test message) is dropped with a log line, never
 * half-delivered.
 */
import * as z from "zod";
import { LOCK_SHARDS } from "../dedupe/deduper";
import type { MemosAddRequest } from "../memos/types";

/** Queues' message limit is 128 KB including metadata; this leaves room for it. */
export const MAX_MESSAGE_BYTES = 120_000;

/** Queue names as in wrangler.toml: the dead-letter queue is consumed by this Worker too. */
export const ADD_QUEUE_NAME = "memos-edge-adds";
export const DEAD_LETTER_QUEUE_NAME = "memos-edge-adds-dlq";

export const queuedAddSchema = z.object({
  v: z.literal(1),
  task_id: z.string().min(1),
  /** The dedupe scope: the caller token's id, or the tenant. */
  scope: z.string().min(1),
  /** The tenant whose memory space the add goes to (null or absent: the shared space). */
  tenant: z.string().nullable().optional(),
  subject: z.string(),
  fingerprint: z.string().min(1),
  idempotency_key: z.string().optional(),
  /** The MemOS add request, built and validated as for a direct add. */
  request: z.custom<MemosAddRequest>(
    (value) => typeof value === "object" && value !== null && Array.isArray((value as { messages?: unknown }).messages),
  ),
  /** Epoch ms of the (latest) enqueue, for the delivery lag. */
  enqueued_at: z.number(),
});
export type QueuedAdd = z.infer<typeof queuedAddSchema>;

/** memos-edge's own task ids carry the lock shard that holds their status: `q-<shard>-<uuid>`. */
const TASK_ID = /^q-(\d{1,2})-[0-9a-f-]{36}$/;

export function taskIdFor(shard: number): string {
  return `q-${shard}-${crypto.randomUUID()}`;
}

/** The lock shard of a queued add's task id; undefined for any other id (MemOS's own, say). */
export function shardOfTaskId(taskId: string): number | undefined {
  const match = TASK_ID.exec(taskId);
  const shard = match ? Number(match[1]) : undefined;
  // Only the shards that exist: a made-up id must not create lock objects.
  return shard !== undefined && shard < LOCK_SHARDS ? shard : undefined;
}
