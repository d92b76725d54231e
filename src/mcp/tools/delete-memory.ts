/** `delete_memory`: delete particular memories of the user, by the ids `list_memories` shows. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";
import { validate } from "../../http/input";
import { MAX_DELETE_IDS, deleteRequestSchema } from "../../http/schemas";
import { deleteMemories } from "../../manage/operations";
import { need } from "../../http/middleware";
import { safely, withUser, type ToolScope } from "../context";

const DESCRIPTION = [
  "Delete particular memories of the user, by id (get the ids from list_memories).",
  "Only when the user asks to forget these things. Ids of another user's memories are never touched.",
].join(" ");

const shape = {
  memory_ids: z.array(z.string().min(1)).min(1).max(MAX_DELETE_IDS).describe("Ids of the memories to delete."),
};

export function registerDeleteMemory(server: McpServer, scope: ToolScope): void {
  server.registerTool(
    "delete_memory",
    {
      title: "Delete memories",
      description: DESCRIPTION,
      inputSchema: withUser(shape, scope),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    safely(scope, async ({ user_id, memory_ids }) => {
      need(scope.c, "delete");
      // Always with the user: a model can only delete memories of the person it talks to.
      const input = validate(deleteRequestSchema, { user_id: scope.fixedUser ?? user_id, memory_ids });
      const { text, deleted } = await deleteMemories(scope.c, input);
      return { content: [{ type: "text", text }], structuredContent: { deleted } };
    }),
  );
}
