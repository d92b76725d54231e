/** `add_memory`: store a conversation turn, deduped exactly like `/v1/add` (same schema, builder and `addOnce`). */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";
import { addOnce } from "../../dedupe/add-once";
import { validate } from "../../http/input";
import { addRequestSchema, MAX_ID_LENGTH } from "../../http/schemas";
import { shapeAdd, shapeQueuedAdd } from "../../memos/answers";
import { buildAddRequest } from "../../memos/requests";
import { need } from "../../http/middleware";
import { deliveryOf, enqueueAdd } from "../../queue/enqueue";
import { safely, withUser, type ToolScope } from "../context";

const DESCRIPTION = [
  "Save a conversation turn to the user's long-term memory, so that later conversations can recall it.",
  "Call it after the user shares something worth keeping: facts about themselves, preferences, plans, decisions.",
  "Pass the turn as `messages`, or as `user_message` (and optionally `assistant_message`).",
  "Memories are extracted from the turn in the background; storing the same turn again is harmless (it is stored once).",
].join(" ");

const messageArgument = z.object({
  role: z.enum(["user", "assistant", "system"]).describe("Who said it."),
  content: z.string().describe("What was said."),
});

const shape = {
  messages: z
    .array(messageArgument)
    .min(1)
    .optional()
    .describe("The turn to remember, in the order it was said. Use this or user_message."),
  user_message: z.string().optional().describe("What the user said (instead of messages)."),
  assistant_message: z.string().optional().describe("What you answered (with user_message)."),
  conversation_id: z
    .string()
    .max(MAX_ID_LENGTH)
    .optional()
    .describe("The current conversation's id, if you have one: groups its memories."),
  tags: z
    .array(z.string().max(100))
    .max(50)
    .optional()
    .describe('Short labels for what the memory is about, e.g. ["travel"].'),
  idempotency_key: z
    .string()
    .max(200)
    .optional()
    .describe("Any unique string for this turn: a retry with the same key is stored once."),
  delivery: z
    .enum(["direct", "queued"])
    .optional()
    .describe(
      "queued: return at once and store the turn when the memory service can take it (status via its task_id). Default: the server's setting.",
    ),
};

const outputShape = {
  deduplicated: z.boolean().describe("True when the same add was already made and this one was not sent again."),
  user_id: z.union([z.string(), z.array(z.string())]).optional(),
  conversation_id: z.string().nullable(),
  message_count: z.number().int(),
  task_id: z.string().nullable().describe("MemOS's extraction task, when it runs in the background."),
  status: z.string().nullable(),
};

export function registerAddMemory(server: McpServer, scope: ToolScope): void {
  server.registerTool(
    "add_memory",
    {
      title: "Add memory",
      description: DESCRIPTION,
      inputSchema: withUser(shape, scope),
      outputSchema: outputShape,
      // Adding never removes or overwrites a memory; a repeat of the same add is stored once.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    safely(scope, async ({ user_id, ...args }) => {
      need(scope.c, "write");
      const { c } = scope;
      const input = validate(addRequestSchema, { ...args, user_id: scope.fixedUser ?? user_id });
      const { request, idempotencyKey, delivery } = buildAddRequest(input, c.var.config);
      if (deliveryOf(c, delivery) === "queued") {
        const { task, replayed } = await enqueueAdd(c, request, idempotencyKey);
        const { text, ...queued } = shapeQueuedAdd(request, task, replayed);
        return { content: [{ type: "text", text }], structuredContent: queued };
      }
      const outcome = await addOnce(c, request, idempotencyKey);
      const { text, ...added } = shapeAdd(request, outcome.result, outcome.replayed);
      return { content: [{ type: "text", text }], structuredContent: added };
    }),
  );
}
