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

/** `get/memory`: a user's (or agent's) memories, paged. */
export interface MemosGetMemoryRequest {
  user_id?: string;
  agent_id?: string;
  page: number;
  size: number;
  filter?: Record<string, unknown>;
  [field: string]: unknown;
}

export const memosGetMemoryDataSchema = z
  .looseObject({
    ...memosSearchDataSchema.def.innerType.shape,
    total: z.number().optional().catch(undefined),
    size: z.number().optional().catch(undefined),
    current: z.number().optional().catch(undefined),
    pages: z.number().optional().catch(undefined),
  })
  .catch({});
export type MemosGetMemoryData = z.infer<typeof memosGetMemoryDataSchema>;

/** `GET get/memory/{id}`: MemOS's own names (`title`, `content`, `created_at`), unlike the lists'. */
export const memosMemoryDetailSchema = z.looseObject({
  id: z.string().optional().catch(undefined),
  title: z.string().nullish().catch(undefined),
  content: z.unknown().optional(),
  conversation_id: z.string().nullish().catch(undefined),
  user_id: z.string().nullish().catch(undefined),
  agent_id: z.string().nullish().catch(undefined),
  status: z.string().nullish().catch(undefined),
  created_at: z.unknown().optional(),
  updated_at: z.unknown().optional(),
  tags: z.array(z.string()).nullish().catch(undefined),
});
export type MemosMemoryDetail = z.infer<typeof memosMemoryDetailSchema>;

/** `delete/memory`: exactly one of ids, user, agent (or a filter, MemOS only); `conversation_id` narrows a user's delete. */
export interface MemosDeleteRequest {
  memory_ids?: string[];
  user_id?: string;
  agent_id?: string;
  conversation_id?: string;
  filter?: Record<string, unknown>;
  memory_type?: string;
  [field: string]: unknown;
}

export const memosDeleteDataSchema = z
  .looseObject({
    success: z.boolean().optional().catch(undefined),
    deleted: z.number().optional().catch(undefined),
  })
  .catch({});
export type MemosDeleteData = z.infer<typeof memosDeleteDataSchema>;

export const MEMORY_STATUSES = ["activated", "resolving", "archived", "deleted"] as const;

export interface MemosUpdateRequest {
  memory_id: string;
  content?: string;
  title?: string;
  status?: (typeof MEMORY_STATUSES)[number];
}

export const memosTaskStatusSchema = z.looseObject({
  task_id: z.string().optional().catch(undefined),
  status: z.string().optional().catch(undefined),
});
export type MemosTaskStatus = z.infer<typeof memosTaskStatusSchema>;

export interface MemosFeedbackRequest {
  user_id: string;
  conversation_id?: string;
  feedback_content: string;
  agent_id?: string;
  app_id?: string;
  feedback_time?: string;
  [field: string]: unknown;
}

export interface MemosGetMessagesRequest {
  user_id: string;
  conversation_id: string;
  message_limit_number: number;
  [field: string]: unknown;
}

export const memosMessageDetailSchema = z.looseObject({
  role: z.string().optional().catch(undefined),
  content: z.unknown().optional(),
  create_time: z.unknown().optional(),
  update_time: z.unknown().optional(),
});
export const memosMessagesDataSchema = z
  .looseObject({ message_detail_list: z.array(memosMessageDetailSchema).optional().catch(undefined) })
  .catch({});
export type MemosMessagesData = z.infer<typeof memosMessagesDataSchema>;
