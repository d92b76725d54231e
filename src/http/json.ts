/**
 * JSON.parse with a nesting limit. Bodies and JSON-string fields (messages,
 * filter, info) are walked recursively later (hashing, filters, MemOS's own
 * serialiser); a 256 KiB body can nest 100,000 levels, which would overflow
 * the stack. Nothing memos-edge or MemOS takes nests deeper than a few levels.
 */
import { AppError } from "./errors";

export const MAX_JSON_DEPTH = 32;

export function parseJson(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(error instanceof Error ? error.message : "invalid JSON");
  }
  if (depthOf(parsed) > MAX_JSON_DEPTH) {
    throw new AppError("invalid_request", `JSON nested deeper than ${MAX_JSON_DEPTH} levels is not accepted.`);
  }
  return parsed;
}

/** Iterative, so measuring a hostile value cannot itself overflow the stack. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}
