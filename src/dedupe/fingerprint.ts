/**
 * The dedupe identity of an add: everything sent to the backend except
 * `source` and each message's `chat_time`. Callers such as the MemOS plugin
 * stamp a fresh `chat_time` on every attempt, so a retry differs only there;
 * any other difference (other tags, another agent, other `info`) is another add.
 */
import { sha256Hex } from "../lib/digest";
import type { MemosAddRequest } from "../memos/types";

export async function addFingerprint(request: MemosAddRequest): Promise<string> {
  const { source: _source, messages, ...rest } = request;
  const identity = {
    ...rest,
    messages: messages.map(({ chat_time: _chatTime, ...message }) => message),
  };
  return sha256Hex(canonicalJson(identity));
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
