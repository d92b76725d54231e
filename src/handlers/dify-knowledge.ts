/**
 * Dify's External Knowledge API (docs/dify-contracts.md §2): users enter
 * https://<worker>/dify as the endpoint and Dify POSTs to /dify/retrieval.
 * Errors speak Dify's dialect, `{ error_code, error_msg }`, on every /dify path
 * but the API extension's: an endpoint typed as ".../dify/retrieval" makes Dify
 * probe ".../retrieval/retrieval", and only a 403 (not 401) makes its save
 * check refuse a bad token.
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { UnauthorizedError } from "../http/auth";
import { errorResponse, noteError, type AppError } from "../http/errors";
import { optionalInt, optionalNumber, requiredText } from "../http/fields";
import { readOptionalInput } from "../http/input";
import { allowedMethods, requireCaller, need } from "../http/middleware";
import { MAX_FREE_TEXT, MAX_ID_LENGTH, MAX_TOP_K } from "../http/schemas";
import { memoryEntries, type MemoryEntry } from "../memos/answers";
import { buildSearchRequest } from "../memos/requests";

export const difyKnowledge = new Hono<AppEnv>();

difyKnowledge.use("/dify/*", allowedMethods(difyKnowledge), requireCaller);
difyKnowledge.onError((error, c) => knowledgeErrorResponse(c, noteError(c, error)));

/** Dify sends `top_k: null` when the dataset's retrieval model has none. */
const DEFAULT_RETRIEVAL_TOP_K = 5;
/** MemOS preferences carry no score; they count as middling, so a strict threshold drops them. */
const UNSCORED = 0.5;

const metadataConditionSchema = z
  .object({
    logical_operator: z.string().optional().catch(undefined),
    conditions: z
      .array(z.looseObject({ name: z.unknown(), comparison_operator: z.unknown(), value: z.unknown() }))
      .optional()
      .catch(undefined),
  })
  .nullish()
  .catch(undefined);

const retrievalSchema = z.object({
  knowledge_id: requiredText("knowledge_id", MAX_ID_LENGTH, "The memory user to search."),
  query: requiredText("query", MAX_FREE_TEXT, "What to recall."),
  retrieval_setting: z
    .object({
      // Dify's own dataset setting: clamped to what memos-edge serves, never refused
      // (Dify turns a refused retrieval into "no records" without a word).
      top_k: optionalInt("top_k", 1, 10_000, "How many records at most."),
      score_threshold: optionalNumber("score_threshold", 0, 1, "Minimum score."),
    })
    .nullish()
    .transform((setting) => setting ?? {}),
  metadata_condition: metadataConditionSchema,
});

const EQUALS = new Set(["is", "=", "in"]);

/** Metadata conditions Dify may pass that name MemOS filter fields (`agent_id`, `app_id`, `tags`). */
function filterFromMetadata(condition: z.infer<typeof metadataConditionSchema>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const { name, comparison_operator: operator, value } of condition?.conditions ?? []) {
    const field = Array.isArray(name) ? name[0] : name;
    if (typeof value !== "string" || typeof operator !== "string") continue;
    if ((field === "agent_id" || field === "app_id") && EQUALS.has(operator)) out.push({ [field]: value });
    if (field === "tags" && (operator === "contains" || EQUALS.has(operator))) out.push({ tags: { contains: value } });
  }
  return out;
}

difyKnowledge.post("/dify/retrieval", async (c) => {
  need(c, "read");
  const { backend } = c.var;
  const input = await readOptionalInput(c, retrievalSchema);
  // Dify's save-time probe is a POST with no body: a valid token gets an empty, successful answer.
  if (input === undefined) return c.json({ records: [] });
  const threshold = input.retrieval_setting.score_threshold ?? 0;
  const { request } = buildSearchRequest(
    {
      user_id: input.knowledge_id,
      query: input.query,
      top_k: Math.min(input.retrieval_setting.top_k ?? DEFAULT_RETRIEVAL_TOP_K, MAX_TOP_K),
    },
    backend.maxSearchLimit,
    filterFromMetadata(input.metadata_condition),
  );
  const { data } = await backend.search(request);
  const records = memoryEntries(data)
    .map((entry) => toRecord(entry, backend.kind))
    .filter((record) => record.score >= threshold);
  return c.json({ records });
});

function toRecord({ memory, title }: MemoryEntry, backend: string) {
  const metadata: Record<string, string> = { source: "memos-edge", backend, type: memory.type };
  if (memory.id !== null) metadata.document_id = memory.id;
  if (memory.conversation_id !== null) metadata.conversation_id = memory.conversation_id;
  if (memory.created_at !== null) metadata.created_at = memory.created_at;
  return {
    content: memory.content,
    score: memory.score ?? UNSCORED,
    title: title ?? `${memory.type}${memory.created_at ? ` ${memory.created_at.slice(0, 10)}` : ""}`,
    metadata,
  };
}

/** Dify's documented External Knowledge error codes; 403 is the only status its save probe rejects. */
const DIFY_MALFORMED_AUTH = 1001;
const DIFY_AUTH_FAILED = 1002;

function knowledgeErrorResponse(c: Context, error: AppError): Response {
  if (error instanceof UnauthorizedError) {
    return errorResponse(
      c,
      error,
      { error_code: error.malformed ? DIFY_MALFORMED_AUTH : DIFY_AUTH_FAILED, error_msg: error.message },
      403,
    );
  }
  return errorResponse(c, error, { error_code: error.status, error_msg: error.message });
}
