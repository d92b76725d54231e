/**
 * The one input step of every route: read a body in whatever form Dify's HTTP
 * node or a webhook tool sent it (JSON, form-urlencoded, multipart, or JSON as
 * text/plain or with no Content-Type: raw-text bodies; older Dify sets none),
 * then validate it against the route's schema.
 */
import type { Context } from "hono";
import type * as z from "zod";
import type { AppEnv } from "../env";
import { AppError } from "./errors";
import { parseJson } from "./json";

/** Reads the request body and validates it: a 400 naming the field when it does not fit. */
export async function readInput<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  return validate(schema, await readFields(c.req.raw, c.var.config.maxBodyBytes));
}

/** Like `readInput`, but an empty body (no fields at all) is `undefined` rather than validated. */
export async function readOptionalInput<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
): Promise<z.infer<S> | undefined> {
  const fields = await readFields(c.req.raw, c.var.config.maxBodyBytes);
  return Object.keys(fields).length === 0 ? undefined : validate(schema, fields);
}

/** Parses with a schema and turns the first issue into a 400 that names the field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
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

export type Fields = Record<string, unknown>;

/** Dify adds this empty part so httpx sends multipart even without files. */
const MULTIPART_PLACEHOLDER = "__multipart_placeholder__";
/**
 * No route takes more than a few dozen fields, nor a list of more than 50
 * (tags, knowledge bases): far more is abuse, refused before any work grows with it.
 */
export const MAX_FORM_ENTRIES = 1_000;
export const MAX_VALUES_PER_FIELD = 100;

export const INVALID_JSON_HINT =
  "If a Dify variable can hold quotes or backslashes, set the HTTP node's body type to x-www-form-urlencoded (same keys) instead of JSON.";

export async function readFields(request: Request, maxBytes: number): Promise<Fields> {
  const bytes = await readCapped(request, maxBytes);
  const contentType = (request.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (bytes.byteLength === 0) return {};

  if (contentType === "application/x-www-form-urlencoded") {
    return collect(new URLSearchParams(decode(bytes)).entries());
  }
  if (contentType === "multipart/form-data") {
    let form: FormData;
    try {
      form = await new Response(bytes, {
        headers: { "Content-Type": request.headers.get("Content-Type") ?? "" },
      }).formData();
    } catch (error) {
      throw new AppError("invalid_request", "The multipart body could not be read.", { cause: error });
    }
    const entries: [string, string][] = [];
    for (const [name, value] of form.entries()) {
      // Files are not memory text; the placeholder is Dify's, not the caller's.
      if (name !== MULTIPART_PLACEHOLDER && typeof value === "string") entries.push([name, value]);
    }
    return collect(entries);
  }
  if (
    contentType === "" ||
    contentType === "application/json" ||
    contentType.endsWith("+json") ||
    contentType.startsWith("text/")
  ) {
    return parseJsonObject(decode(bytes));
  }
  throw new AppError(
    "unsupported_media_type",
    `Content-Type ${contentType} is not read here; send application/json, application/x-www-form-urlencoded or multipart/form-data.`,
  );
}

export function parseJsonObject(text: string): Fields {
  const trimmed = text.trim();
  if (trimmed.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = parseJson(trimmed);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new AppError("invalid_json", `The body is not valid JSON (${error.message}). ${INVALID_JSON_HINT}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AppError("invalid_json", "The body must be a JSON object.");
  }
  return parsed as Fields;
}

/**
 * A key sent more than once (`tags=a&tags=b`) becomes a list, grown in place
 * (linear in the body). The object has no prototype, so a field named
 * `constructor` or `__proto__` is just a field.
 */
function collect(entries: Iterable<[string, string]>): Fields {
  const fields: Fields = Object.create(null) as Fields;
  const lists = new Map<string, string[]>();
  let count = 0;
  for (const [name, value] of entries) {
    if (++count > MAX_FORM_ENTRIES) {
      throw new AppError("invalid_request", `The form has more than ${MAX_FORM_ENTRIES} fields.`);
    }
    const list = lists.get(name);
    if (list) {
      if (list.length >= MAX_VALUES_PER_FIELD) {
        const field = name.slice(0, 64);
        throw new AppError("invalid_request", `${field} is sent more than ${MAX_VALUES_PER_FIELD} times.`, { field });
      }
      list.push(value);
    } else if (Object.hasOwn(fields, name)) {
      const both = [fields[name] as string, value];
      lists.set(name, both);
      fields[name] = both;
    } else {
      fields[name] = value;
    }
  }
  return fields;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new AppError("payload_too_large", `The body is larger than ${maxBytes} bytes.`);
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array();
  // The runtime holds a body to its declared length, so a declared one is read in one go.
  if (request.headers.has("Content-Length") && Number.isInteger(declared) && declared >= 0) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge();
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
