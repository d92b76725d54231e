/**
 * The dedupe identity of an add. It covers who (user_id, agent_id, app_id),
 * where (conversation_id) and what (each message's role, content and speaker),
 * and leaves out `chat_time` and `source`: callers such as the MemOS plugin
 * stamp a fresh `chat_time` on every attempt, so a retry differs only there.
 */
import type { MemosAddRequest } from "./memos/types";

export async function addFingerprint(request: MemosAddRequest): Promise<string> {
  const identity = {
    user: request.user_id ?? null,
    conversation: request.conversation_id ?? null,
    agent: request.agent_id ?? null,
    app: request.app_id ?? null,
    messages: request.messages.map((message) => [
      message.role,
      message.content,
      message.role_id ?? null,
      message.role_name ?? null,
    ]),
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

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
