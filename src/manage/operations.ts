/**
 * Memory management as operations every surface shares (`/v1`, MCP): each
 * takes validated input, calls the request's backend, and answers memos-edge's
 * own shape with a readable `text`. Deletes always make dedupe forget first,
 * so an add sent again after a delete is stored again.
 */
import type { Context } from "hono";
import { forgetAdds } from "../dedupe/add-once";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import type { DeleteRequest, ListRequest } from "../http/schemas";
import { memoryEntries, shapeMemoryDetail, shapeSearch, type MemoryDetail } from "../memos/answers";
import { buildListRequest, dropUndefined } from "../memos/requests";

export async function listMemories(c: Context<AppEnv>, input: ListRequest) {
  const request = buildListRequest(input);
  const { data } = await c.var.backend.getMemories(request);
  const memories = memoryEntries(data).map(({ memory }) => memory);
  const total = data.total ?? memories.length;
  const pages = data.pages ?? Math.ceil(total / request.size);
  const heading = `${total} ${plural(total)} for ${input.user_id}; page ${request.page} of ${Math.max(pages, 1)}.`;
  const ids = memories.map((memory) => `- ${memory.id ?? "?"}: ${memory.content}`).join("\n");
  return {
    memories,
    count: memories.length,
    total,
    page: request.page,
    size: request.size,
    pages,
    text: memories.length > 0 ? `${heading}\n\n${shapeSearch(data).text}\n\nIds:\n${ids}` : heading,
  };
}

/** Exactly one of ids (restricted to `user_id` when named), a user's conversation, or an agent. */
export async function deleteMemories(c: Context<AppEnv>, input: DeleteRequest) {
  await forgetAdds(c);
  const { data } = await c.var.backend.deleteMemories(
    input.agent_id !== undefined ? { agent_id: input.agent_id } : dropUndefined(input),
  );
  const deleted = data.deleted ?? null;
  const what = input.memory_ids
    ? input.user_id === undefined
      ? "by id"
      : `by id, of ${input.user_id}`
    : input.conversation_id
      ? `conversation ${input.conversation_id} of ${input.user_id}`
      : `agent ${input.agent_id}`;
  return {
    deleted,
    text: deleted === null ? `Deleted the memories (${what}).` : `Deleted ${deleted} ${plural(deleted)} (${what}).`,
  };
}

/** Everything of a user; a dry run only counts. */
export async function forgetUser(c: Context<AppEnv>, userId: string, dryRun: boolean) {
  const { backend } = c.var;
  if (dryRun) {
    const { data } = await backend.getMemories({ user_id: userId, page: 1, size: 1 });
    const count = data.total ?? 0;
    return {
      dry_run: true,
      would_delete: count,
      text: `Dry run: ${count} ${plural(count)} of ${userId} would be deleted. Nothing was deleted.`,
    };
  }
  await forgetAdds(c);
  const { data } = await backend.deleteMemories({ user_id: userId });
  const deleted = data.deleted ?? null;
  return {
    dry_run: false,
    deleted,
    text: `Forgot everything about ${userId}${deleted === null ? "" : ` (${deleted} ${plural(deleted)})`}.`,
  };
}

/** The memory, or 404 when it does not exist or belongs to another user than the one named. */
export async function ownedMemory(
  c: Context<AppEnv>,
  memoryId: string,
  userId: string | undefined,
): Promise<MemoryDetail> {
  const { data } = await c.var.backend.getMemory(memoryId);
  const memory = data === null ? null : shapeMemoryDetail(data);
  if (memory === null || (userId !== undefined && memory.user_id !== userId)) throw memoryNotFound(memoryId);
  return memory;
}

export function memoryNotFound(memoryId: string): AppError {
  return new AppError("not_found", `No memory ${memoryId} was found.`, { field: "memory_id" });
}

function plural(count: number): string {
  return count === 1 ? "memory" : "memories";
}
