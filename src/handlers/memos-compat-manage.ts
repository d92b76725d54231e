/**
 * MemOS's memory-management calls on the MemOS-compatible surface, for the
 * official MemOS client (`MemOSClient`): request and answer shapes as MemOS's
 * own, nulls accepted everywhere (the client sends every optional field).
 * Mounted under /api/openmem/v1 by memos-compat.ts, whose auth and error
 * dialect it shares; on the cloud backend each call goes to the same MemOS path.
 */
import { Hono } from "hono";
import * as z from "zod";
import { forgetAdds } from "../dedupe/add-once";
import type { AppEnv } from "../env";
import { need } from "../http/middleware";
import { AppError } from "../http/errors";
import {
  optionalBoolean,
  optionalIdList,
  optionalInt,
  optionalList,
  optionalObject,
  optionalText,
  requiredId,
  requiredText,
} from "../http/fields";
import { readInput, throwInvalid, validate } from "../http/input";
import { MAX_DELETE_IDS, MAX_FREE_TEXT, MAX_ID_LENGTH, MAX_PAGE_SIZE } from "../http/schemas";
import { dropUndefined } from "../memos/requests";
import { MEMORY_STATUSES, type MemosDeleteRequest } from "../memos/types";
import { queuedTaskStatus } from "../queue/status";

export const memosManagement = new Hono<AppEnv>();

const idField = (field: string) => optionalText(field, MAX_ID_LENGTH, field);
const DEFAULT_PAGE_SIZE = 10;
const DEFAULT_MESSAGES = 6;

const getMemorySchema = z.looseObject({
  user_id: idField("user_id"),
  agent_id: idField("agent_id"),
  page: optionalInt("page", 1, 100_000, "page"),
  size: optionalInt("size", 1, MAX_PAGE_SIZE, "size"),
  filter: optionalObject("filter", "filter"),
});

memosManagement.post("/get/memory", async (c) => {
  need(c, "read");
  const { page, size, ...rest } = await readInput(c, getMemorySchema);
  requireOwner(rest);
  const { message, data } = await c.var.backend.getMemories({
    ...dropUndefined(rest),
    page: page ?? 1,
    size: size ?? DEFAULT_PAGE_SIZE,
  });
  return c.json({ code: 0, message, data });
});

const memoryIdParam = z.object({ memory_id: requiredId("memory_id", "memory_id") });

memosManagement.get("/get/memory/:memory_id{.+}", async (c) => {
  need(c, "read");
  // The official client percent-encodes the id (`/` as %2F); Hono hands the segment over decoded.
  const { memory_id } = validate(memoryIdParam, { memory_id: c.req.param("memory_id") });
  const { message, data } = await c.var.backend.getMemory(memory_id);
  if (data === null) throw new AppError("not_found", `No memory ${memory_id} was found.`, { field: "memory_id" });
  return c.json({ code: 0, message, data });
});

const deleteMemorySchema = z.looseObject({
  memory_ids: optionalIdList("memory_ids", MAX_DELETE_IDS, "memory_ids"),
  // Older clients send `user_ids` (a one-item list), newer ones `user_id`.
  user_ids: optionalList("user_ids", 20, MAX_ID_LENGTH, "user_ids"),
  user_id: idField("user_id"),
  agent_id: idField("agent_id"),
  filter: optionalObject("filter", "filter"),
  memory_type: optionalText("memory_type", 64, "memory_type"),
});

memosManagement.post("/delete/memory", async (c) => {
  need(c, "delete");
  const input = await readInput(c, deleteMemorySchema);
  const user = input.user_id ?? (input.user_ids?.length === 1 ? input.user_ids[0] : undefined);
  if (input.user_ids !== undefined && input.user_ids.length > 1 && input.memory_ids === undefined) {
    throwInvalid("delete one user at a time: user_ids takes a single id", "user_ids");
  }
  const modes = [input.memory_ids ?? (user === undefined ? undefined : "user"), input.agent_id, input.filter];
  if (modes.filter((mode) => mode !== undefined).length !== 1) {
    throwInvalid("exactly one of memory_ids, user_id, agent_id or filter is required", "memory_ids");
  }
  const request: MemosDeleteRequest =
    input.memory_ids !== undefined
      ? { memory_ids: input.memory_ids, ...(user === undefined ? {} : { user_id: user }) }
      : user !== undefined
        ? { user_id: user }
        : input.agent_id !== undefined
          ? { agent_id: input.agent_id }
          : { filter: input.filter ?? {} };
  if (input.memory_type !== undefined) request.memory_type = input.memory_type;
  await forgetAdds(c);
  const { message, data } = await c.var.backend.deleteMemories(request);
  return c.json({ code: 0, message, data: { ...data, success: data.success ?? true } });
});

const updateMemorySchema = z.looseObject({
  memory_id: requiredId("memory_id", "memory_id"),
  content: optionalText("content", MAX_FREE_TEXT, "content"),
  title: optionalText("title", 200, "title"),
  status: z.preprocess(
    (value) => (value === null || value === "" ? undefined : value),
    z.enum(MEMORY_STATUSES).optional(),
  ),
});

memosManagement.post("/update/memory", async (c) => {
  need(c, "write");
  const { memory_id, content, title, status } = await readInput(c, updateMemorySchema);
  if (content === undefined && title === undefined && status === undefined) {
    throwInvalid("content, title or status is required", "content");
  }
  // Status "deleted" hides the memory like a delete: it takes the delete scope and frees a re-add.
  if (status === "deleted") {
    need(c, "delete");
    await forgetAdds(c);
  }
  const { message, data } = await c.var.backend.updateMemory({
    memory_id,
    ...(content === undefined ? {} : { content }),
    ...(title === undefined ? {} : { title }),
    ...(status === undefined ? {} : { status }),
  });
  if (data.success === false)
    throw new AppError("not_found", `No memory ${memory_id} was found.`, { field: "memory_id" });
  return c.json({ code: 0, message, data: { ...data, success: true } });
});

const statusSchema = z.looseObject({ task_id: requiredId("task_id", "task_id") });

memosManagement.post("/get/status", async (c) => {
  need(c, "read");
  const { task_id } = await readInput(c, statusSchema);
  const queued = await queuedTaskStatus(c, task_id);
  if (queued !== undefined) return c.json({ code: 0, message: "ok", data: queued });
  const { message, data } = await c.var.backend.taskStatus(task_id);
  if (data === null) throw new AppError("not_found", `No task ${task_id} is known.`, { field: "task_id" });
  return c.json({ code: 0, message, data });
});

const feedbackSchema = z.looseObject({
  user_id: requiredText("user_id", MAX_ID_LENGTH, "user_id"),
  conversation_id: idField("conversation_id"),
  feedback_content: requiredText("feedback_content", MAX_FREE_TEXT, "feedback_content"),
  agent_id: idField("agent_id"),
  app_id: idField("app_id"),
  feedback_time: optionalText("feedback_time", 64, "feedback_time"),
  allow_public: optionalBoolean("allow_public", "allow_public"),
  allow_knowledgebase_ids: optionalList("allow_knowledgebase_ids", 50, 100, "allow_knowledgebase_ids"),
});

memosManagement.post("/add/feedback", async (c) => {
  need(c, "write");
  const input = await readInput(c, feedbackSchema);
  const { message, data } = await c.var.backend.addFeedback({
    ...dropUndefined(input),
    user_id: input.user_id,
    feedback_content: input.feedback_content,
  });
  return c.json({ code: 0, message, data });
});

const getMessageSchema = z.looseObject({
  user_id: requiredText("user_id", MAX_ID_LENGTH, "user_id"),
  conversation_id: requiredText("conversation_id", MAX_ID_LENGTH, "conversation_id"),
  message_limit_number: optionalInt("message_limit_number", 1, MAX_PAGE_SIZE, "message_limit_number"),
  conversation_limit_number: optionalInt("conversation_limit_number", 1, MAX_PAGE_SIZE, "conversation_limit_number"),
  source: optionalText("source", 100, "source"),
});

memosManagement.post("/get/message", async (c) => {
  need(c, "read");
  const input = await readInput(c, getMessageSchema);
  const { message, data } = await c.var.backend.getMessages({
    ...dropUndefined(input),
    user_id: input.user_id,
    conversation_id: input.conversation_id,
    message_limit_number: input.message_limit_number ?? DEFAULT_MESSAGES,
  });
  return c.json({ code: 0, message, data: { ...data, message_detail_list: data.message_detail_list ?? [] } });
});

function requireOwner(input: { user_id?: string | undefined; agent_id?: string | undefined }): void {
  if (input.user_id === undefined && input.agent_id === undefined) throwInvalid("user_id is required", "user_id");
}
