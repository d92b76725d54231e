/**
 * The one interface handlers talk to, and the factory that picks the backend.
 * MemOS cloud, the self-hosted MemOS server and the embedded D1 store all
 * speak MemOS cloud's request and response vocabulary, so the MemOS-compatible
 * routes pass bodies through and the `/v1` routes shape one answer for all.
 */
import type { Config } from "../config";
import type { Bindings } from "../env";
import { D1Backend } from "../store/d1-backend";
import type { Tenant } from "../tenants/config";
import { NamespacedBackend } from "../tenants/namespace";
import { CloudBackend } from "./cloud-backend";
import { ServerBackend } from "./server/backend";
import type {
  BackendResult,
  MemosAddData,
  MemosAddRequest,
  MemosDeleteData,
  MemosDeleteRequest,
  MemosFeedbackRequest,
  MemosGetMemoryData,
  MemosGetMemoryRequest,
  MemosGetMessagesRequest,
  MemosMemoryDetail,
  MemosMessagesData,
  MemosSearchData,
  MemosSearchRequest,
  MemosTaskStatus,
  MemosUpdateRequest,
} from "./types";

export type BackendKind = "memos" | "memos-server" | "local";

export interface MemoryBackend {
  readonly kind: BackendKind;
  /** Largest `memory_limit_number` this backend serves (MemOS caps it at 25). */
  readonly maxSearchLimit: number;
  add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>>;
  /** Throws what `add` would refuse before any call (a queued add is checked before it is accepted). */
  checkAdd?(request: MemosAddRequest): void;
  search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>>;
  /** A user's (or agent's) memories, newest first, paged, with `total`. */
  getMemories(request: MemosGetMemoryRequest): Promise<BackendResult<MemosGetMemoryData>>;
  /** One memory by id; `data: null` when there is none. */
  getMemory(memoryId: string): Promise<BackendResult<MemosMemoryDetail | null>>;
  deleteMemories(request: MemosDeleteRequest): Promise<BackendResult<MemosDeleteData>>;
  updateMemory(request: MemosUpdateRequest): Promise<BackendResult<MemosDeleteData>>;
  /** An add's (or feedback's) task; `data: null` when the id is unknown. */
  taskStatus(taskId: string): Promise<BackendResult<MemosTaskStatus | null>>;
  addFeedback(request: MemosFeedbackRequest): Promise<BackendResult<MemosAddData>>;
  getMessages(request: MemosGetMessagesRequest): Promise<BackendResult<MemosMessagesData>>;
}

/**
 * A self-hosted MemOS server when its URL is set, whatever else is; MemOS
 * cloud when a key is (the tenant's own, when it brings one); else the
 * embedded store. Once tenants exist, every backend is wrapped so each tenant
 * sees only its own users (tenants/namespace.ts).
 */
export function backendFor(env: Bindings, config: Config, tenant?: Tenant, tenantNames: string[] = []): MemoryBackend {
  const inner = innerBackend(env, config, tenant);
  return tenant === undefined || tenantNames.length === 0
    ? inner
    : new NamespacedBackend(inner, tenant.name, tenantNames);
}

function innerBackend(env: Bindings, config: Config, tenant: Tenant | undefined): MemoryBackend {
  if (config.memosServerUrl !== undefined) {
    return new ServerBackend({
      baseUrl: config.memosServerUrl,
      apiKey: config.memosServerKey,
      addTimeoutMs: config.addTimeoutMs,
      searchTimeoutMs: config.searchTimeoutMs,
    });
  }
  const memosApiKey = tenant?.memosApiKey ?? config.memosApiKey;
  if (memosApiKey !== undefined) {
    return new CloudBackend({
      baseUrl: tenant?.memosBaseUrl ?? config.memosBaseUrl,
      apiKey: memosApiKey,
      addTimeoutMs: config.addTimeoutMs,
      searchTimeoutMs: config.searchTimeoutMs,
    });
  }
  return new D1Backend(env.MEMORY_DB, { recentWindow: config.searchRecentWindow, tenant: tenant?.name ?? "" });
}
