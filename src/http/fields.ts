/**
 * zod field builders for bodies that arrive as JSON, form-urlencoded or
 * multipart. Form fields are always strings and Dify templating turns a None
 * variable into "" (or "None"), so every field treats those as absent and
 * coerces strings to numbers, booleans, lists and objects.
 *
 * `.meta({ type })` is what the OpenAPI document shows: Dify's custom tools turn
 * the string "false" into true for boolean fields, so booleans are strings there.
 */
import * as z from "zod";
import { parseJson } from "./json";

/** What Dify renders for an empty or None variable: `""` (segment text) or `"None"` (Python `str`). */
const ABSENT = new Set(["", "None"]);

export function isAbsent(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  return typeof value === "string" && ABSENT.has(value.trim());
}

const absentToUndefined = (value: unknown): unknown => (isAbsent(value) ? undefined : value);

/** Form fields are text: "5" is 5; "abc" becomes NaN and fails as "must be a number". */
function numberFromText(value: unknown): unknown {
  const present = absentToUndefined(value);
  return typeof present === "string" ? Number(present.trim()) : present;
}

const required = (field: string, expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;

export function requiredText(field: string, maxLength: number, description: string) {
  return z
    .preprocess(
      (value) => (typeof value === "number" ? String(value) : absentToUndefined(value)),
      z
        .string({ error: required(field, "a string") })
        .trim()
        .min(1, `${field} is required`)
        .max(maxLength, `${field} must be at most ${maxLength} characters`),
    )
    .meta({ type: "string", description });
}

export function optionalText(field: string, maxLength: number, description: string) {
  return z
    .preprocess(
      (value) => (typeof value === "number" ? String(value) : absentToUndefined(value)),
      z
        .string({ error: `${field} must be a string` })
        .max(maxLength, `${field} must be at most ${maxLength} characters`)
        .optional(),
    )
    .meta({ type: "string", description });
}

export function optionalInt(field: string, min: number, max: number, description: string) {
  return z
    .preprocess(
      numberFromText,
      z
        .number({ error: `${field} must be a whole number` })
        .int(`${field} must be a whole number`)
        .min(min, `${field} must be between ${min} and ${max}`)
        .max(max, `${field} must be between ${min} and ${max}`)
        .optional(),
    )
    .meta({ type: "integer", description, minimum: min, maximum: max });
}

export function optionalNumber(field: string, min: number, max: number, description: string) {
  return z
    .preprocess(
      numberFromText,
      z
        .number({ error: `${field} must be a number` })
        .min(min, `${field} must be between ${min} and ${max}`)
        .max(max, `${field} must be between ${min} and ${max}`)
        .optional(),
    )
    .meta({ type: "number", description, minimum: min, maximum: max });
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

export function optionalBoolean(field: string, description: string) {
  return z
    .preprocess(
      (value) => {
        const present = absentToUndefined(value);
        if (typeof present !== "string") return present;
        const word = present.trim().toLowerCase();
        if (TRUE.has(word)) return true;
        if (FALSE.has(word)) return false;
        return present;
      },
      z.boolean({ error: `${field} must be true or false` }).optional(),
    )
    .meta({ type: "string", enum: ["true", "false"], description });
}

/** One of a few words, in any case; absent when empty. */
export function optionalChoice<const T extends readonly [string, ...string[]]>(
  field: string,
  choices: T,
  description: string,
) {
  return z
    .preprocess(
      (value) => {
        const present = absentToUndefined(value);
        return typeof present === "string" ? present.trim().toLowerCase() : present;
      },
      z.enum(choices, { error: `${field} must be one of ${choices.join(", ")}` }).optional(),
    )
    .meta({ type: "string", enum: [...choices], description });
}

/** A JSON array string, or comma-separated values, or a real array (repeated form keys arrive as one). */
function listFromText(value: unknown): unknown {
  const present = absentToUndefined(value);
  if (typeof present !== "string") return present;
  const text = present.trim();
  if (text.startsWith("[")) return parseJsonOr(text, present);
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function optionalList(field: string, maxItems: number, maxItemLength: number, description: string) {
  return z
    .preprocess(
      listFromText,
      z
        .array(
          z
            .string({ error: `${field} must hold strings` })
            .max(maxItemLength, `each ${field} item must be at most ${maxItemLength} characters`),
          { error: `${field} must be a list (JSON array or comma-separated)` },
        )
        .max(maxItems, `${field} takes at most ${maxItems} items`)
        .optional(),
    )
    .meta({ type: "string", description });
}

/** An object, or a JSON string of one (form bodies cannot nest). */
export function optionalObject(field: string, description: string) {
  return z
    .preprocess(
      (value) => {
        const present = absentToUndefined(value);
        return typeof present === "string" ? parseJsonOr(present.trim(), present) : present;
      },
      z.record(z.string(), z.unknown(), { error: `${field} must be a JSON object` }).optional(),
    )
    .meta({ type: "string", description });
}

/** Text that is not JSON stays text (and fails as "must be a list/object"). */
export function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return parseJson(text);
  } catch (error) {
    if (error instanceof SyntaxError) return fallback;
    throw error;
  }
}

/** Memory and task ids: MemOS's are UUIDs or `word_word_001`; anything else is refused before any call. */
const RECORD_ID = /^[\w.:@-]+$/;
export const MAX_RECORD_ID_LENGTH = 128;

function recordId(field: string) {
  return z
    .string({ error: `${field} must be a string` })
    .trim()
    .min(1, `${field} is required`)
    .max(MAX_RECORD_ID_LENGTH, `${field} must be at most ${MAX_RECORD_ID_LENGTH} characters`)
    .regex(RECORD_ID, `${field} may hold only letters, digits and _ . : @ -`);
}

export function requiredId(field: string, description: string) {
  return z
    .preprocess(absentToUndefined, recordId(field).optional())
    .refine((value) => value !== undefined, `${field} is required`)
    .transform((value) => value as string)
    .meta({ type: "string", description });
}

export function optionalId(field: string, description: string) {
  return z.preprocess(absentToUndefined, recordId(field).optional()).meta({ type: "string", description });
}

/** A list of ids: a JSON array, comma-separated text, or repeated form keys. */
export function optionalIdList(field: string, maxItems: number, description: string) {
  return z
    .preprocess(
      listFromText,
      z
        .array(recordId(field), { error: `${field} must be a list (JSON array or comma-separated)` })
        .min(1, `${field} must name at least one id`)
        .max(maxItems, `${field} takes at most ${maxItems} ids`)
        .optional(),
    )
    .meta({ type: "string", description });
}
