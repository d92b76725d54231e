import type { Bindings, Config } from "./config";
import type { MemoryBackend } from "./memos/backend";
import { CloudBackend } from "./memos/cloud-backend";
import { LocalBackend } from "./memos/local-backend";

/** MemOS when a key is configured; otherwise the embedded D1 store. */
export function backendFor(env: Bindings, config: Config): MemoryBackend {
  if (config.memosApiKey !== undefined) {
    return new CloudBackend({
      baseUrl: config.memosBaseUrl,
      apiKey: config.memosApiKey,
      addTimeoutMs: config.addTimeoutMs,
      searchTimeoutMs: config.searchTimeoutMs,
    });
  }
  return new LocalBackend(env.MEMORY_DB, { recentWindow: config.searchRecentWindow });
}
