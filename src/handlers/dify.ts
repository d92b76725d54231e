/**
 * Dify's own extension points (docs/dify-contracts.md §2, §3):
 *   POST /dify/retrieval  External Knowledge API (users enter https://<worker>/dify)
 *   POST /dify/extension  API-based extension (ping, app.external_data_tool.query)
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app-env";
import { readFields } from "../body";
import { AppError } from "../errors";
import { optionalInt, optionalNumber, requiredText } from "../fields";
import { memoryEntries, shapeSearch, type MemoryEntry } from "../format";
import { methodNotAllowed, requireCaller } from "../middleware";
import { buildSearchRequest, mergeFilter } from "../requests";
import { MAX_FREE_TEXT, MAX_ID_LENGTH, MAX_TOP_K } from "../schemas";
import { parseOrThrow } from "../validate";

export const dify = new Hono<AppEnv>();

dify.use("/dify/*", requireCaller);

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

dify.post("/dify/retrieval", async (c) => {
  const { config, backend } = c.var;
  const fields = await readFields(c.req.raw, config.maxBodyBytes);
  // Dify's save-time probe is a POST with no body: a valid token gets an empty, successful answer.
  if (Object.keys(fields).length === 0) return c.json({ records: [] });
  const input = parseOrThrow(retrievalSchema, fields);
  const threshold = input.retrieval_setting.score_threshold ?? 0;
  const { request } = buildSearchRequest(
    {
      user_id: input.knowledge_id,
      query: input.query,
      top_k: Math.min(input.retrieval_setting.top_k ?? DEFAULT_RETRIEVAL_TOP_K, MAX_TOP_K),
    },
    backend.maxSearchLimit,
  );
  const extra = mergeFilter(request.filter, filterFromMetadata(input.metadata_condition));
  if (extra !== undefined) request.filter = extra;
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

const extensionSchema = z.object({
  point: requiredText("point", 100, "The extension point."),
  params: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((params) => params ?? {}),
});

const externalDataParamsSchema = z.object({
  query: z.string().nullish(),
  inputs: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((inputs) => inputs ?? {}),
});

dify.post("/dify/extension", async (c) => {
  const { config, backend } = c.var;
  const input = parseOrThrow(extensionSchema, await readFields(c.req.raw, config.maxBodyBytes));
  if (input.point === "ping") return c.json({ result: "pong" });
  if (input.point !== "app.external_data_tool.query") {
    throw new AppError(
      "invalid_request",
      `Extension point ${input.point} is not served here; use memos-edge as an external data tool.`,
      {
        field: "point",
      },
    );
  }
  const params = parseOrThrow(externalDataParamsSchema, input.params);
  const given = params.inputs.user_id;
  // A number input variable arrives as a number.
  const userId = typeof given === "string" || typeof given === "number" ? String(given).trim() : "";
  if (userId === "") {
    throw new AppError(
      "invalid_request",
      "params.inputs.user_id is required: add an input variable named user_id to the app and fill it.",
      { field: "user_id" },
    );
  }
  if (userId.length > MAX_ID_LENGTH) {
    throw new AppError("invalid_request", `user_id must be at most ${MAX_ID_LENGTH} characters`, { field: "user_id" });
  }
  // Completion apps send no query; the other inputs are the best description of what is asked.
  const query =
    params.query?.trim() ||
    Object.entries(params.inputs)
      .filter(([name, value]) => name !== "user_id" && typeof value === "string")
      .map(([, value]) => String(value))
      .join(" ")
      .trim();
  if (!query) return c.json({ result: "" });
  const { request } = buildSearchRequest({ user_id: userId, query }, backend.maxSearchLimit);
  const { data } = await backend.search(request);
  return c.json({ result: shapeSearch(data).text });
});

dify.all("/dify/retrieval", methodNotAllowed("POST"));
dify.all("/dify/extension", methodNotAllowed("POST"));
