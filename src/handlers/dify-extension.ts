/**
 * Dify's API-based extension (docs/dify-contracts.md §3): POST /dify/extension
 * with `ping` and `app.external_data_tool.query`. Errors are the default shape.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { AppError, errorResponse, noteError } from "../http/errors";
import { requiredText } from "../http/fields";
import { readInput, validate } from "../http/input";
import { allowedMethods, need, requireCaller } from "../http/middleware";
import { MAX_ID_LENGTH } from "../http/schemas";
import { shapeSearch } from "../memos/answers";
import { buildSearchRequest } from "../memos/requests";

export const difyExtension = new Hono<AppEnv>();

difyExtension.use("/dify/extension", allowedMethods(difyExtension), requireCaller);
difyExtension.onError((error, c) => errorResponse(c, noteError(c, error)));

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

difyExtension.post("/dify/extension", async (c) => {
  const { backend } = c.var;
  const input = await readInput(c, extensionSchema);
  if (input.point === "ping") return c.json({ result: "pong" });
  need(c, "read");
  if (input.point !== "app.external_data_tool.query") {
    throw new AppError(
      "invalid_request",
      `Extension point ${input.point} is not served here; use memos-edge as an external data tool.`,
      {
        field: "point",
      },
    );
  }
  const params = validate(externalDataParamsSchema, input.params);
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
