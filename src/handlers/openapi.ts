/**
 * GET /openapi.json — the Dify custom-tool schema, generated from the same zod
 * schemas the handlers validate with. Dify makes one tool per operation
 * (named by operationId) and one parameter per top-level body property.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { allowedMethods } from "../http/middleware";
import {
  MAX_FREE_TEXT,
  addRequestSchema,
  deleteRequestSchema,
  forgetRequestSchema,
  listRequestSchema,
  searchRequestSchema,
} from "../http/schemas";
import { VERSION } from "../version";

export const openapi = new Hono<AppEnv>();

openapi.use("/openapi.json", allowedMethods(openapi));

/** Keywords kept for a field whose wire type is set in http/fields.ts (`.meta({ type })`). */
const WIRE_KEYWORDS = new Set(["type", "description", "enum", "minimum", "maximum", "maxLength"]);

/**
 * The JSON Schema of what a caller sends (zod's input side). A field whose
 * wire form differs from its parsed form (a list sent as a JSON string, say)
 * is described by its wire form only, so the document does not contradict itself.
 */
function bodySchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      // Free text is capped by configuration (MAX_MESSAGE_CHARS, MAX_BODY_BYTES), not by the schema.
      if (jsonSchema.maxLength === MAX_FREE_TEXT) delete jsonSchema.maxLength;
      const wireType = z.globalRegistry.get(zodSchema)?.type;
      if (wireType === undefined) return;
      for (const keyword of Object.keys(jsonSchema)) {
        if (!WIRE_KEYWORDS.has(keyword) || (keyword === "maxLength" && wireType !== "string")) {
          delete jsonSchema[keyword as keyof typeof jsonSchema];
        }
      }
    },
  });
  return rest;
}

const answerSchema = {
  type: "object",
  properties: {
    ok: { type: "boolean" },
    text: { type: "string", description: "A sentence or a ready-to-prompt memory context." },
  },
};

function operation(operationId: string, summary: string, description: string, schema: z.ZodType) {
  return {
    post: {
      operationId,
      summary,
      description,
      security: [{ bearerAuth: [] }],
      requestBody: { required: true, content: { "application/json": { schema: bodySchema(schema) } } },
      responses: {
        "200": { description: "Done", content: { "application/json": { schema: answerSchema } } },
        "4XX": { description: 'Refused: {"ok": false, "error": {"code", "message"}}' },
      },
    },
  };
}

/**
 * What a tool call needs. Dify lets the LLM fill every body property, so the
 * tool schema leaves out the plumbing (aliases, MemOS views, knowledge bases,
 * source); those stay available to HTTP-node and webhook callers.
 */
const addToolSchema = addRequestSchema.pick({
  user_id: true,
  conversation_id: true,
  user_message: true,
  assistant_message: true,
  messages: true,
  idempotency_key: true,
  agent_id: true,
  tags: true,
});
const searchToolSchema = searchRequestSchema.pick({
  user_id: true,
  query: true,
  conversation_id: true,
  top_k: true,
  agent_id: true,
  tags: true,
});

export function openApiDocument(origin: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "memos-edge",
      version: VERSION,
      description: "Long-term memory for AI apps: save conversations and recall what matters.",
    },
    servers: [{ url: origin }],
    components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
    paths: {
      "/v1/add": operation(
        "add_memory",
        "Save a conversation turn to the user's long-term memory",
        "Call after answering, with what the user said and what you answered, so they can be recalled later.",
        addToolSchema,
      ),
      "/v1/search": operation(
        "search_memory",
        "Recall the user's memories relevant to a query",
        "Call before answering. The answer's text field is ready to put in a prompt: facts and preferences, one per line.",
        searchToolSchema,
      ),
      "/v1/list": operation(
        "list_memories",
        "List what is stored about the user",
        "Call when the user asks what you remember about them. Newest first, paged; the text field lists them with their ids.",
        listRequestSchema.pick({ user_id: true, page: true, size: true }),
      ),
      "/v1/delete": operation(
        "delete_memory",
        "Delete specific memories of the user",
        "Call when the user asks to forget particular things: pass the ids from list_memories together with the user_id (another user's ids are never touched), or a conversation_id with the user_id.",
        deleteRequestSchema.pick({ memory_ids: true, user_id: true, conversation_id: true }),
      ),
      "/v1/forget": operation(
        "forget_user",
        "Forget everything about the user",
        "Deletes the user's whole memory. Only when the user clearly asks to be forgotten; call first with dry_run true to learn how many memories would go, and confirm with the user.",
        forgetRequestSchema,
      ),
    },
  };
}

openapi.get("/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin)));
