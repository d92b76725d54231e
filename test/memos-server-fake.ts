/**
 * A fake of the self-hosted, open-source MemOS server (MemTensor/MemOS
 * `server_router.py`, `product_models.py`; docs/memos-server.md names the
 * version), answering at the fetch boundary through `mockMemos`. It validates
 * requests the way the server's pydantic models do — a boolean `async_mode`,
 * a missing `mem_cube_id` or `history`, an explicit null `user_id` are 422s
 * in the server's own envelope — so a mapping mistake fails a test instead of
 * passing silently. It keeps memories per cube (the graph `user_name`), so an
 * add is found by a later search, listed, read and deleted.
 */
export const SERVER_URL = "http://memos.internal:8001";
export const SERVER_KEY = "srv-key-0123456789-secret";

/** Bindings that select the self-hosted server backend (the cloud key set too: the server URL wins). */
export const SERVER = { MEMOS_SERVER_URL: SERVER_URL, MEMOS_API_KEY: "mk-test-secret-0123456789" } as const;

type Json = Record<string, unknown>;

export interface FakeNode {
  id: string;
  memory: string;
  metadata: Json;
}

interface Issue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class FakeMemosServer {
  /** cube id → its textual memories, oldest first. */
  readonly cubes = new Map<string, FakeNode[]>();
  /** cube id → its preference memories. */
  readonly preferences = new Map<string, FakeNode[]>();
  /** `memos:task_meta:{user_id}` → business task id → status. */
  readonly tasks = new Map<string, Map<string, string>>();
  /** Set: requests without `Authorization: Bearer <key>` get the agent-auth middleware's 401. */
  requireKey: string | undefined;
  #clock = Date.UTC(2025, 8, 18, 8, 23, 44, 625);

  constructor(options: { requireKey?: string } = {}) {
    this.requireKey = options.requireKey;
  }

  /** The handler for `mockMemos`. */
  readonly handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.origin !== SERVER_URL || !url.pathname.startsWith("/product/")) return notFound();
    if (this.requireKey !== undefined && request.headers.get("Authorization") !== `Bearer ${this.requireKey}`) {
      return Response.json({ detail: "Invalid or unknown agent key." }, { status: 401 });
    }
    const route = url.pathname.slice("/product".length);
    const method = request.method;
    if (method === "GET" && route.startsWith("/get_memory/")) {
      return this.#getOne(decodeURIComponent(route.slice("/get_memory/".length)));
    }
    if (method === "GET" && route === "/scheduler/status") return this.#status(url, method);
    const post: Record<string, (body: Json, where: string) => Response> = {
      "/add": (body, where) => this.#add(body, where),
      "/search": (body, where) => this.#search(body, where),
      "/get_memory": (body, where) => this.#list(body, where),
      "/delete_memory": (body, where) => this.#delete(body, where),
      "/feedback": (body, where) => this.#feedback(body, where),
    };
    const handler = post[route];
    if (handler === undefined) return notFound();
    if (method !== "POST") return Response.json({ detail: "Method Not Allowed" }, { status: 405 });
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return validationError(`${method} ${url.pathname}`, [
        { loc: ["body"], msg: "JSON decode error", type: "json_invalid" },
      ]);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return validationError(`${method} ${url.pathname}`, [
        { loc: ["body"], msg: "Input should be a valid dictionary", type: "model_attributes_type" },
      ]);
    }
    return handler(body as Json, `${method} ${url.pathname}`);
  };

  /** A memory as the server stores it (full `TreeNodeTextualMemoryMetadata`), for answer-mapping tests. */
  seed(cube: string, memory: string, metadata: Json = {}): FakeNode {
    const id = crypto.randomUUID();
    const now = this.#now();
    const node: FakeNode = {
      id,
      memory,
      metadata: {
        user_id: cube,
        session_id: "default_session",
        status: "activated",
        is_fast: false,
        evolve_to: [],
        version: 1,
        history: [],
        working_binding: null,
        type: "fact",
        key: null,
        confidence: 0.99,
        source: null,
        tags: [],
        visibility: null,
        updated_at: now,
        info: {},
        covered_history: null,
        memory_type: "LongTermMemory",
        sources: [],
        embedding: [0.1, 0.2, 0.3],
        created_at: now,
        usage: [],
        background: "",
        file_ids: [],
        user_name: cube,
        ...metadata,
      },
    };
    this.#cube(this.cubes, cube).push(node);
    return node;
  }

  seedPreference(cube: string, preference: string, type = "explicit_preference", sessionId = "default_session") {
    const id = crypto.randomUUID();
    const node: FakeNode = {
      id,
      memory: preference,
      metadata: {
        preference_type: type,
        preference,
        dialog_id: sessionId,
        original_text: preference,
        mem_cube_id: cube,
        session_id: sessionId,
        user_id: cube,
        created_at: this.#now(),
        embedding: [],
        score: 0.7,
      },
    };
    this.#cube(this.preferences, cube).push(node);
    return node;
  }

  memoriesOf(cube: string): FakeNode[] {
    return this.cubes.get(cube) ?? [];
  }

  // ---------------------------------------------------------------------------

  #add(body: Json, where: string): Response {
    const issues = [
      ...str(body, "user_id", { optional: true }),
      ...str(body, "session_id", { nullable: true, optional: true }),
      ...str(body, "task_id", { nullable: true, optional: true }),
      ...literal(body, "async_mode", ["async", "sync"], { optional: true }),
      ...literal(body, "mode", ["fast", "fine"], { optional: true, nullable: true }),
      ...strList(body, "writable_cube_ids"),
      ...strList(body, "custom_tags"),
      ...dict(body, "info"),
      ...messagesIssues(body.messages),
    ];
    if (issues.length > 0) return validationError(where, issues);
    const messages = Array.isArray(body.messages)
      ? (body.messages as Json[])
      : typeof body.messages === "string"
        ? [{ role: "user", content: body.messages }]
        : [];
    if (messages.every((message) => typeof message.content !== "string" || message.content.trim() === "")) {
      return Response.json({ code: 400, message: "Message content must not be empty.", data: null }, { status: 400 });
    }
    const userId = body.user_id as string | undefined;
    const cubes = (body.writable_cube_ids as string[] | null | undefined)?.length
      ? [...new Set(body.writable_cube_ids as string[])]
      : [userId ?? "None"];
    const data: Json[] = [];
    for (const cube of cubes) {
      for (const message of messages) {
        if (typeof message.content !== "string" || message.content.trim() === "") continue;
        const node = this.seed(cube, `${String(message.role)}: ${message.content}`, {
          user_id: userId,
          session_id: (body.session_id as string | null | undefined) ?? "default_session",
          tags: ["mode:fast"],
          ...(body.custom_tags ? { custom_tags: body.custom_tags } : {}),
          info: filteredInfo(body.info),
          memory_type: "UserMemory",
          sources: [
            { type: "chat", role: message.role, chat_time: message.chat_time ?? null, content: message.content },
          ],
        });
        data.push({ memory: node.memory, memory_id: node.id, memory_type: "UserMemory", cube_id: cube });
      }
    }
    if (typeof body.task_id === "string" && userId !== undefined) {
      this.#taskMap(userId).set(body.task_id, body.async_mode === "sync" ? "completed" : "in_progress");
    }
    return envelope("Memory added successfully", data);
  }

  #search(body: Json, where: string): Response {
    const issues = [
      ...str(body, "query"),
      ...str(body, "user_id"),
      ...strList(body, "readable_cube_ids"),
      ...literal(body, "mode", ["fast", "fine", "mixture"], { optional: true }),
      ...str(body, "session_id", { nullable: true, optional: true }),
      ...int(body, "top_k", 1),
      ...number(body, "relativity", 0),
      ...int(body, "pref_top_k", 0),
      ...bool(body, "include_preference"),
      ...bool(body, "search_tool_memory"),
      ...bool(body, "include_skill_memory"),
      ...dict(body, "filter"),
    ];
    if (issues.length > 0) return validationError(where, issues);
    const cubes = (body.readable_cube_ids as string[] | null | undefined)?.length
      ? [...new Set(body.readable_cube_ids as string[])]
      : [body.user_id as string];
    const words = String(body.query)
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word.length >= 3);
    const threshold = typeof body.relativity === "number" ? body.relativity : 0.45;
    const topK = typeof body.top_k === "number" ? body.top_k : 10;
    const includePreference = body.include_preference !== false;
    const data: Json = {
      text_mem: [],
      act_mem: [],
      para_mem: [],
      pref_mem: [],
      pref_note: "",
      tool_mem: [],
      skill_mem: [],
    };
    for (const cube of cubes) {
      const found = this.memoriesOf(cube)
        .filter((node) => words.some((word) => node.memory.toLowerCase().includes(word)))
        .map((node) => formatted(node, 0.83))
        .filter((node) => (node.metadata.relativity as number) >= threshold);
      (data.text_mem as Json[]).push({ cube_id: cube, memories: found.slice(0, topK), total_nodes: found.length });
      (data.tool_mem as Json[]).push({ cube_id: cube, memories: [], total_nodes: 0 });
      (data.skill_mem as Json[]).push({ cube_id: cube, memories: [], total_nodes: 0 });
      if (includePreference) {
        const prefs = (this.preferences.get(cube) ?? []).map((node) => formatted(node, 0.7));
        (data.pref_mem as Json[]).push({ cube_id: cube, memories: prefs, total_nodes: prefs.length });
      }
    }
    if (includePreference) data.pref_string = "";
    return envelope("Search completed successfully", data);
  }

  #list(body: Json, where: string): Response {
    const issues = [
      ...str(body, "mem_cube_id"),
      ...str(body, "user_id", { nullable: true, optional: true }),
      ...int(body, "page", 1, { nullable: true }),
      ...int(body, "page_size", 1, { nullable: true }),
      ...bool(body, "include_preference"),
      ...bool(body, "include_tool_memory"),
      ...bool(body, "include_skill_memory"),
      ...dict(body, "filter"),
    ];
    if (issues.length > 0) return validationError(where, issues);
    const cube = body.mem_cube_id as string;
    const page = (body.page as number | null | undefined) ?? undefined;
    const size = (body.page_size as number | null | undefined) ?? undefined;
    const paged = (nodes: FakeNode[]) =>
      page === undefined || size === undefined ? nodes : nodes.slice((page - 1) * size, page * size);
    // Newest first; raw graph nodes (embedding included, no ref_id).
    const nodes = [...this.memoriesOf(cube)].reverse();
    const prefs = [...(this.preferences.get(cube) ?? [])].reverse();
    return envelope("Memories retrieved successfully", {
      text_mem: [{ cube_id: cube, memories: paged(nodes), total_nodes: nodes.length }],
      pref_mem:
        body.include_preference === false ? [] : [{ cube_id: cube, memories: paged(prefs), total_nodes: prefs.length }],
      tool_mem: body.include_tool_memory === false ? [] : [{ cube_id: cube, memories: [], total_nodes: 0 }],
      skill_mem: body.include_skill_memory === false ? [] : [{ cube_id: cube, memories: [], total_nodes: 0 }],
    });
  }

  #getOne(memoryId: string): Response {
    for (const nodes of this.cubes.values()) {
      const node = nodes.find((item) => item.id === memoryId);
      if (node) return envelope("Memory retrieved successfully", structuredClone(node));
    }
    return envelope(`Memory with ID ${memoryId} not found`, null);
  }

  /** The mainline 2.0.x handler: ids mode iterates `writable_cube_ids`; without them it fails inside HTTP 200. */
  #delete(body: Json, where: string): Response {
    const issues = [
      ...strList(body, "writable_cube_ids"),
      ...strList(body, "memory_ids"),
      ...strList(body, "file_ids"),
      ...dict(body, "filter"),
    ];
    if (issues.length > 0) return validationError(where, issues);
    const modes = ["memory_ids", "file_ids", "filter"].filter(
      (field) => body[field] !== undefined && body[field] !== null,
    );
    if (modes.length !== 1) {
      return envelope("Exactly one of memory_ids, file_ids, or filter must be provided", { status: "failure" });
    }
    if (body.memory_ids !== undefined) {
      const cubes = body.writable_cube_ids as string[] | null | undefined;
      if (!cubes) return envelope("Failed to delete memories", { status: "failure" });
      const ids = new Set(body.memory_ids as string[]);
      for (const cube of cubes) {
        for (const store of [this.cubes, this.preferences]) {
          const nodes = store.get(cube);
          if (nodes)
            store.set(
              cube,
              nodes.filter((node) => !ids.has(node.id)),
            );
        }
      }
      return envelope("Memories deleted successfully", { status: "success" });
    }
    return envelope("Failed to delete memories", { status: "failure" });
  }

  #feedback(body: Json, where: string): Response {
    const issues = [
      ...str(body, "user_id"),
      ...required(body, "history"),
      ...required(body, "feedback_content"),
      ...(body.history === null || body.history === undefined ? [] : messagesIssues(body.history, "history")),
      ...str(body, "feedback_content", { nullable: true }),
      ...literal(body, "async_mode", ["sync", "async"], { optional: true }),
      ...strList(body, "writable_cube_ids"),
      ...str(body, "session_id", { nullable: true, optional: true }),
      ...str(body, "task_id", { nullable: true, optional: true }),
      ...dict(body, "info"),
    ];
    if (issues.length > 0) return validationError(where, issues);
    if (typeof body.task_id === "string") this.#taskMap(body.user_id as string).set(body.task_id, "waiting");
    return envelope("Memory feedback successfully", [[]]);
  }

  #status(url: URL, method: string): Response {
    const userId = url.searchParams.get("user_id");
    if (userId === null) {
      return validationError(`${method} ${url.pathname}`, [
        { loc: ["query", "user_id"], msg: "Field required", type: "missing" },
      ]);
    }
    const taskId = url.searchParams.get("task_id");
    const tasks = this.tasks.get(userId) ?? new Map<string, string>();
    if (taskId === null) {
      return envelope(
        "Memory get status successfully",
        [...tasks].map(([id, status]) => ({ task_id: id, status })),
      );
    }
    const status = tasks.get(taskId);
    if (status === undefined) {
      return Response.json(
        { code: 404, message: `Task ${taskId} not found for user ${userId}`, data: null },
        { status: 404 },
      );
    }
    return envelope("Memory get status successfully", [{ task_id: taskId, status }]);
  }

  #taskMap(userId: string): Map<string, string> {
    let map = this.tasks.get(userId);
    if (!map) this.tasks.set(userId, (map = new Map()));
    return map;
  }

  #cube(store: Map<string, FakeNode[]>, cube: string): FakeNode[] {
    let nodes = store.get(cube);
    if (!nodes) store.set(cube, (nodes = []));
    return nodes;
  }

  /** Python's naive `datetime.isoformat()`: microseconds, no zone. */
  #now(): string {
    this.#clock += 1000;
    return `${new Date(this.#clock).toISOString().slice(0, -1)}479`;
  }
}

/** `format_memory_item`: embedding emptied, ref_id added, relativity set. */
function formatted(node: FakeNode, relativity: number): FakeNode & { ref_id: string } {
  const refId = `[${node.id.split("-")[0]}]`;
  return {
    ...structuredClone(node),
    ref_id: refId,
    metadata: {
      ...node.metadata,
      embedding: [],
      usage: [],
      ref_id: refId,
      id: node.id,
      memory: node.memory,
      relativity,
    },
  };
}

/** add_handler drops `info` keys that name a memory field. */
function filteredInfo(info: unknown): Json {
  const reserved = new Set(["user_id", "session_id", "tags", "source", "key", "status", "memory_type", "type", "info"]);
  if (typeof info !== "object" || info === null) return {};
  return Object.fromEntries(Object.entries(info).filter(([key]) => !reserved.has(key)));
}

function envelope(message: string, data: unknown): Response {
  return Response.json({ code: 200, message, data });
}

function notFound(): Response {
  return Response.json({ detail: "Not Found" }, { status: 404 });
}

/** The server's RequestValidationError handler (exceptions.py, newest). */
function validationError(where: string, issues: Issue[]): Response {
  const readable = issues.map((issue) => `[${issue.loc.join(" -> ")}] ${issue.msg} (type: ${issue.type})`);
  return Response.json(
    {
      code: 422,
      message: `Parameter validation error on ${where}: ${readable.join("; ")}`,
      detail: issues.map((issue) => ({ ...issue, input: null })),
      data: null,
    },
    { status: 422 },
  );
}

interface FieldOptions {
  optional?: boolean;
  nullable?: boolean;
}

function required(body: Json, field: string): Issue[] {
  return field in body ? [] : [{ loc: ["body", field], msg: "Field required", type: "missing" }];
}

/** `field: str` — absent is a 422 unless it has a default; an explicit null is a 422 unless `| None`. */
function str(body: Json, field: string, options: FieldOptions = {}): Issue[] {
  if (!(field in body)) return options.optional ? [] : required(body, field);
  const value = body[field];
  if (value === null && options.nullable) return [];
  return typeof value === "string"
    ? []
    : [{ loc: ["body", field], msg: "Input should be a valid string", type: "string_type" }];
}

function literal(body: Json, field: string, allowed: string[], options: FieldOptions = {}): Issue[] {
  if (!(field in body)) return options.optional ? [] : required(body, field);
  const value = body[field];
  if (value === null && options.nullable) return [];
  return typeof value === "string" && allowed.includes(value)
    ? []
    : [
        {
          loc: ["body", field],
          msg: `Input should be ${allowed.map((item) => `'${item}'`).join(" or ")}`,
          type: "literal_error",
        },
      ];
}

function strList(body: Json, field: string): Issue[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  return Array.isArray(value) && value.every((item) => typeof item === "string")
    ? []
    : [{ loc: ["body", field], msg: "Input should be a valid list of strings", type: "list_type" }];
}

function dict(body: Json, field: string): Issue[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  return typeof value === "object" && !Array.isArray(value)
    ? []
    : [{ loc: ["body", field], msg: "Input should be a valid dictionary", type: "dict_type" }];
}

function bool(body: Json, field: string): Issue[] {
  const value = body[field];
  return value === undefined || typeof value === "boolean"
    ? []
    : [{ loc: ["body", field], msg: "Input should be a valid boolean", type: "bool_type" }];
}

function int(body: Json, field: string, min: number, options: FieldOptions = {}): Issue[] {
  const value = body[field];
  if (value === undefined || (value === null && options.nullable)) return [];
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return [{ loc: ["body", field], msg: "Input should be a valid integer", type: "int_type" }];
  }
  return value >= min
    ? []
    : [{ loc: ["body", field], msg: `Input should be greater than or equal to ${min}`, type: "greater_than_equal" }];
}

function number(body: Json, field: string, min: number): Issue[] {
  const value = body[field];
  if (value === undefined) return [];
  if (typeof value !== "number")
    return [{ loc: ["body", field], msg: "Input should be a valid number", type: "float_type" }];
  return value >= min
    ? []
    : [{ loc: ["body", field], msg: `Input should be greater than or equal to ${min}`, type: "greater_than_equal" }];
}

/** `MessagesType`: a string, or OpenAI-style messages whose `role` and `content` are required. */
function messagesIssues(value: unknown, field = "messages"): Issue[] {
  if (value === undefined || value === null || typeof value === "string") return [];
  if (!Array.isArray(value)) return [{ loc: ["body", field], msg: "Input should be a valid list", type: "list_type" }];
  return value.flatMap((message, index): Issue[] => {
    if (typeof message !== "object" || message === null) {
      return [{ loc: ["body", field, index], msg: "Input should be a valid dictionary", type: "dict_type" }];
    }
    const { role, content } = message as Json;
    const issues: Issue[] = [];
    if (!["user", "assistant", "system", "tool"].includes(String(role))) {
      issues.push({
        loc: ["body", field, index, "role"],
        msg: "Input should be 'user', 'assistant', 'system' or 'tool'",
        type: "literal_error",
      });
    }
    if (typeof content !== "string" && !Array.isArray(content) && !(role === "assistant" && content === null)) {
      issues.push({ loc: ["body", field, index, "content"], msg: "Field required", type: "missing" });
    }
    return issues;
  });
}
