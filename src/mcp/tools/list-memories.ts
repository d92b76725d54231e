/** `list_memories`: what is stored about the user, newest first, with the ids `delete_memory` takes. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";
import { validate } from "../../http/input";
import { MAX_PAGE_SIZE, listRequestSchema } from "../../http/schemas";
import { listMemories } from "../../manage/operations";
import { need } from "../../http/middleware";
import { safely, withUser, type ToolScope } from "../context";

const DESCRIPTION = [
  "List what is stored in the user's long-term memory, newest first, with each memory's id.",
  "Call it when the user asks what you remember about them, or to find the ids of memories they want deleted.",
].join(" ");

const shape = {
  page: z.number().int().min(1).optional().describe("Page number, from 1 (default 1)."),
  size: z.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe("Memories per page (default 10)."),
};

export function registerListMemories(server: McpServer, scope: ToolScope): void {
  server.registerTool(
    "list_memories",
    {
      title: "List memories",
      description: DESCRIPTION,
      inputSchema: withUser(shape, scope),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    safely(scope, async ({ user_id, page, size }) => {
      need(scope.c, "read");
      const input = validate(listRequestSchema, { user_id: scope.fixedUser ?? user_id, page, size });
      const { text, ...listed } = await listMemories(scope.c, input);
      return { content: [{ type: "text", text }], structuredContent: listed };
    }),
  );
}
