/**
 * Memory management on the webhook surface (`/v1`, README "Memory management"):
 * list, read, delete, forget a user, correct, task status, feedback and a
 * conversation's messages. Each answer has a readable `text` for no-code tools.
 * Mounted into the `/v1` sub-app, so it shares its auth and error shape.
 */
import { Hono } from "hono";
import { forgetAdds } from "../dedupe/add-once";
import type { AppEnv } from "../env";
import { need } from "../http/middleware";
import { AppError } from "../http/errors";
import { readInput, throwInvalid } from "../http/input";
import {
  MAX_PAGE_SIZE,
  deleteRequestSchema,
  feedbackRequestSchema,
  forgetRequestSchema,
  getRequestSchema,
  listRequestSchema,
  messagesRequestSchema,
  statusRequestSchema,
  updateRequestSchema,
} from "../http/schemas";
import { deleteMemories, forgetUser, listMemories, memoryNotFound, ownedMemory } from "../manage/operations";
import { dropUndefined } from "../memos/requests";
import { queuedTaskStatus } from "../queue/status";

export const v1Memories = new Hono<AppEnv>();

const DEFAULT_MESSAGES = 6;

v1Memories.post("/v1/list", async (c) => {
  need(c, "read");
  const input = await readInput(c, listRequestSchema);
  return c.json({ ok: true, ...(await listMemories(c, input)) });
});

v1Memories.post("/v1/get", async (c) => {
  need(c, "read");
  const input = await readInput(c, getRequestSchema);
  const memory = await ownedMemory(c, input.memory_id, input.user_id);
  return c.json({ ok: true, memory, text: `${memory.title ? `${memory.title}: ` : ""}${memory.content}` });
});

v1Memories.post("/v1/delete", async (c) => {
  need(c, "delete");
  const input = await readInput(c, deleteRequestSchema);
  const modes = [input.memory_ids, input.conversation_id, input.agent_id].filter((mode) => mode !== undefined);
  if (modes.length !== 1) {
    throwInvalid(
      "Name exactly one of memory_ids, conversation_id (with user_id) or agent_id; use /v1/forget to delete everything of a user.",
      "memory_ids",
    );
  }
  if (input.conversation_id !== undefined && input.user_id === undefined) {
    throwInvalid("user_id is required to delete a conversation", "user_id");
  }
  return c.json({ ok: true, ...(await deleteMemories(c, input)) });
});

v1Memories.post("/v1/forget", async (c) => {
  need(c, "delete");
  const input = await readInput(c, forgetRequestSchema);
  return c.json({ ok: true, ...(await forgetUser(c, input.user_id, input.dry_run === true)) });
});

v1Memories.post("/v1/update", async (c) => {
  need(c, "write");
  const { memory_id, user_id, content, title, status } = await readInput(c, updateRequestSchema);
  if (content === undefined && title === undefined && status === undefined) {
    throwInvalid("content, title or status is required", "content");
  }
  if (user_id !== undefined) await ownedMemory(c, memory_id, user_id);
  // Status "deleted" hides the memory like a delete: it takes the delete scope and frees a re-add.
  if (status === "deleted") {
    need(c, "delete");
    await forgetAdds(c);
  }
  const { data } = await c.var.backend.updateMemory({
    memory_id,
    ...(content === undefined ? {} : { content }),
    ...(title === undefined ? {} : { title }),
    ...(status === undefined ? {} : { status }),
  });
  if (data.success === false) throw memoryNotFound(memory_id);
  return c.json({ ok: true, memory_id, text: `Updated memory ${memory_id}.` });
});

v1Memories.post("/v1/status", async (c) => {
  need(c, "read");
  const { task_id } = await readInput(c, statusRequestSchema);
  const queued = await queuedTaskStatus(c, task_id);
  if (queued !== undefined) {
    const why = queued.reason === null ? "" : ` (${queued.reason})`;
    return c.json({ ok: true, ...queued, text: `Queued add ${task_id} is ${queued.status}${why}.` });
  }
  const { data } = await c.var.backend.taskStatus(task_id);
  if (data === null) throw new AppError("not_found", `No task ${task_id} is known.`, { field: "task_id" });
  const status = data.status ?? "unknown";
  return c.json({ ok: true, task_id, status, text: `Task ${task_id} is ${status}.` });
});

v1Memories.post("/v1/feedback", async (c) => {
  need(c, "write");
  const { feedback, ...rest } = await readInput(c, feedbackRequestSchema);
  const { data } = await c.var.backend.addFeedback({
    ...dropUndefined(rest),
    user_id: rest.user_id,
    feedback_content: feedback,
  });
  return c.json({
    ok: true,
    task_id: data.task_id ?? null,
    status: data.status ?? null,
    text: `Feedback for ${rest.user_id} recorded.`,
  });
});

v1Memories.post("/v1/messages", async (c) => {
  need(c, "read");
  const { user_id, conversation_id, limit } = await readInput(c, messagesRequestSchema);
  const { data } = await c.var.backend.getMessages({
    user_id,
    conversation_id,
    message_limit_number: Math.min(limit ?? DEFAULT_MESSAGES, MAX_PAGE_SIZE),
  });
  const messages = (data.message_detail_list ?? []).map((message) => ({
    role: message.role ?? null,
    content: typeof message.content === "string" ? message.content : (JSON.stringify(message.content) ?? ""),
    created_at: typeof message.create_time === "string" ? message.create_time : null,
  }));
  return c.json({
    ok: true,
    messages,
    count: messages.length,
    text: messages.map((message) => `${message.role ?? "?"}: ${message.content}`).join("\n"),
  });
});
