import type { z } from "zod";
import { AppError } from "./errors";

/** Parses with a schema and turns the first issue into a 400 that names the field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const message = issue?.message ?? "invalid request";
  // Field builders already name the field; nested issues (messages.0.role) get the path prepended.
  const text = path && !message.startsWith(path.split(".")[0] ?? "") ? `${path}: ${message}` : message;
  return throwInvalid(text, path || undefined);
}

export function throwInvalid(message: string, field?: string): never {
  throw new AppError("invalid_request", message, { field });
}
