/**
 * GET /openapi.json — the Dify custom-tool schema, generated from the same zod
 * schemas the handlers validate with. Dify makes one tool per operation
 * (named by operationId) and one parameter per top-level body property.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app-env";
import { methodNotAllowed } from "../middleware";
import { addRequestSchema, searchRequestSchema } from "../schemas";
import { VERSION } from "../version";

export const openapi = new Hono<AppEnv>();

/** Keywords kept for a field whose wire type is set in fields.ts (`.meta({ type })`). */
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
        addRequestSchema,
      ),
      "/v1/search": operation(
        "search_memory",
        "Recall the user's memories relevant to a query",
        "Call before answering. The answer's text field is ready to put in a prompt: facts and preferences, one per line.",
        searchRequestSchema,
      ),
    },
  };
}

openapi.get("/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin)));
openapi.all("/openapi.json", methodNotAllowed("GET", "HEAD"));
