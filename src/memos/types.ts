/**
 * MemOS cloud API shapes (MemOS docs: add/message, search/memory). Requests are what both backends
 * take; responses are parsed tolerantly because MemOS adds fields over time
 * and omits others.
 */
import * as z from "zod";

export const MEMOS_ROLES = ["user", "assistant", "system", "tool"] as const;

export const memosMessageSchema = z.looseObject({
  role: z.enum(MEMOS_ROLES),
  /** A string, or MemOS's list of parts (text, image_url, file). */
  content: z.union([z.string(), z.array(z.unknown())]),
  chat_time: z.string().optional(),
  role_id: z.string().optional(),
  role_name: z.string().optional(),
});
export type MemosMessage = z.infer<typeof memosMessageSchema>;

export interface MemosAddRequest {
  user_id?: string | string[];
  conversation_id?: string;
  messages: MemosMessage[];
  agent_id?: string;
  app_id?: string;
  tags?: string[];
  [field: string]: unknown;
}

export interface MemosSearchRequest {
  query: string;
  user_id?: string;
  conversation_id?: string;
  memory_limit_number?: number;
  filter?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Any JSON object with a numeric `code` is MemOS's envelope; `data` may be absent or null (an accepted add, a refusal). */
export const memosEnvelopeSchema = z.object({
  code: z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform((code) => Number(code)),
  message: z.string().optional().catch(undefined),
  data: z.unknown().optional(),
});

export const memosAddDataSchema = z
  .looseObject({
    success: z.boolean().optional().catch(undefined),
    task_id: z.string().optional().catch(undefined),
    status: z.string().optional().catch(undefined),
  })
  .catch({});
export type MemosAddData = z.infer<typeof memosAddDataSchema>;

const optionalText = z.string().optional().catch(undefined);

/** Every detail list MemOS may return, with the `type` memos-edge gives its items. */
export const DETAIL_LISTS = {
  memory_detail_list: "fact",
  preference_detail_list: "preference",
  profile_detail_list: "profile",
  event_detail_list: "event",
  tool_memory_detail_list: "tool",
  skill_detail_list: "skill",
} as const;
export type DetailListName = keyof typeof DETAIL_LISTS;
export type MemoryKind = (typeof DETAIL_LISTS)[DetailListName];

const detailList = z.array(z.looseObject({})).optional().catch(undefined);

export const memosSearchDataSchema = z
  .looseObject({
    memory_detail_list: detailList,
    preference_detail_list: detailList,
    profile_detail_list: detailList,
    event_detail_list: detailList,
    tool_memory_detail_list: detailList,
    skill_detail_list: detailList,
    preference_note: optionalText,
  })
  .catch({});
export type MemosSearchData = z.infer<typeof memosSearchDataSchema>;

/** What a backend answers: MemOS's envelope minus `code` (always 0 on success). */
export interface BackendResult<T> {
  message: string;
  data: T;
}
