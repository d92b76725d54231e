/** `search_memory`: recall what fits a query, answered as the same ready-to-prompt text as `/v1/search`. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";
import { validate } from "../../http/input";
import { DEFAULT_TOP_K, MAX_TOP_K, searchRequestSchema } from "../../http/schemas";
import { shapeSearch } from "../../memos/answers";
import { buildSearchRequest } from "../../memos/requests";
import { need } from "../../http/middleware";
import { safely, withUser, type ToolScope } from "../context";

const DESCRIPTION = [
  "Search the user's long-term memory for what is known about them: facts, preferences, plans from earlier conversations.",
  "Call it before answering whenever something the user said before could matter, with the user's latest message or the topic as the query.",
  "Answers the matching memories as text, one per line under headings, ready to use.",
].join(" ");

const shape = {
  query: z.string().trim().min(1).describe("What to recall, e.g. the user's latest message or a topic."),
  top_k: z
    .number()
    .int()
    .min(1)
    .max(MAX_TOP_K)
    .optional()
    .describe(`How many memories at most (default ${DEFAULT_TOP_K}).`),
};

const outputShape = {
  memories: z.array(
    z.object({
      id: z.string().nullable(),
      content: z.string(),
      type: z.string().describe("fact, preference, profile, event, tool or skill"),
      score: z.number().nullable().describe("Relevance from 0 to 1, when the backend gives one."),
      created_at: z.string().nullable(),
      conversation_id: z.string().nullable(),
    }),
  ),
  count: z.number().int(),
};

export function registerSearchMemory(server: McpServer, scope: ToolScope): void {
  server.registerTool(
    "search_memory",
    {
      title: "Search memory",
      description: DESCRIPTION,
      inputSchema: withUser(shape, scope),
      outputSchema: outputShape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    safely(scope, async ({ user_id, query, top_k }) => {
      need(scope.c, "read");
      const { backend } = scope.c.var;
      const input = validate(searchRequestSchema, { user_id: scope.fixedUser ?? user_id, query, top_k });
      // A top_k above what the backend serves is clamped; a model needs no warning about it.
      const { request } = buildSearchRequest(input, backend.maxSearchLimit);
      const { data } = await backend.search(request);
      const { memories, text } = shapeSearch(data);
      return { content: [{ type: "text", text }], structuredContent: { memories, count: memories.length } };
    }),
  );
}
