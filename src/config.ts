/**
 * Everything memos-edge reads from its environment, parsed once per request
 * into one typed object. Nothing else reads `env` directly.
 */

import type { Bindings } from "./env";
import { parseTenants, TenantConfigError, type TenantConfig } from "./tenants/config";

export interface Config {
  memosBaseUrl: string;
  /** Bare key, without a leading `Token `. */
  memosApiKey: string | undefined;
  /** The self-hosted MemOS server's base URL (without `/product`); set → that server serves, whatever else is set. */
  memosServerUrl: string | undefined;
  /** Bare key for a self-hosted server that checks one (sent as `Authorization: Bearer <key>`). */
  memosServerKey: string | undefined;
  authTokens: string[];
  /** Every accepted token with its tenant and scopes, or why TENANTS is refused (every token then fails closed). */
  tenants: TenantConfig | TenantConfigError;
  dedupeTtlSeconds: number;
  /** How long a repeat waits for an in-flight identical add before answering 409. */
  dedupeWaitMs: number;
  addTimeoutMs: number;
  searchTimeoutMs: number;
  maxBodyBytes: number;
  maxMessages: number;
  maxMessageChars: number;
  corsOrigins: string[];
  /** Embedded store: a user's newest memories searched before the rest (see store/d1-backend.ts). */
  searchRecentWindow: number;
  /** The `period` of the [[ratelimits]] blocks: what a limited caller is told to wait. */
  rateLimitPeriodSeconds: number;
  /** How an add is delivered when the request does not say (README "Queued adds"). */
  addDelivery: AddDelivery;
  /** First retry delay of a queued add; it doubles per attempt (with jitter) up to `queueRetryMaxSeconds`. */
  queueRetryBaseSeconds: number;
  queueRetryMaxSeconds: number;
}

export type AddDelivery = "direct" | "queued";

export const DEFAULT_MEMOS_BASE_URL = "https://memos.memtensor.cn/api/openmem/v1";
/** KV refuses expirationTtl below 60 s. */
const KV_MIN_TTL_SECONDS = 60;
/** Queues' longest `delaySeconds`: 12 hours. */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;

function intVar(value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = Number.parseInt(value ?? "", 10);
  if (!Number.isFinite(parsed)) return fallback;
  return Math.min(Math.max(parsed, min), max);
}

function listVar(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const configCache = new WeakMap<object, Config>();

export function readConfig(env: Bindings): Config {
  const cached = configCache.get(env);
  if (cached) return cached;
  // The first retry must come within 30 s of a failure (issue 21), so the base is at most 30.
  const queueRetryBaseSeconds = intVar(env.QUEUE_RETRY_BASE_SECONDS, 10, 1, 30);
  const key = env.MEMOS_API_KEY?.trim().replace(/^token\s+/i, "");
  const serverUrl = env.MEMOS_SERVER_URL?.trim()
    .replace(/\/+$/, "")
    .replace(/\/product$/, "");
  const serverKey = env.MEMOS_SERVER_KEY?.trim().replace(/^bearer\s+/i, "");
  const config: Config = {
    memosBaseUrl: (env.MEMOS_BASE_URL?.trim() || DEFAULT_MEMOS_BASE_URL).replace(/\/+$/, ""),
    memosApiKey: key ? key : undefined,
    memosServerUrl: serverUrl ? serverUrl : undefined,
    memosServerKey: serverKey ? serverKey : undefined,
    authTokens: listVar(env.AUTH_TOKENS),
    tenants: tenantsOf(listVar(env.AUTH_TOKENS), env.TENANTS, Boolean(env.MEMOS_SERVER_URL?.trim())),
    dedupeTtlSeconds: intVar(env.DEDUPE_TTL_SECONDS, 86_400, KV_MIN_TTL_SECONDS),
    dedupeWaitMs: intVar(env.DEDUPE_WAIT_MS, 8_000, 0, 60_000),
    // An attempt outlives a caller who gave up only through waitUntil, which Workers end 30 s
    // after the response: a longer add could be cut off unrecorded, then made twice.
    addTimeoutMs: intVar(env.MEMOS_ADD_TIMEOUT_MS, 25_000, 100, 25_000),
    // Dify's External Knowledge call gives up after 5 s: one search attempt plus one retry must fit.
    searchTimeoutMs: intVar(env.MEMOS_SEARCH_TIMEOUT_MS, 2_000, 100, 30_000),
    maxBodyBytes: intVar(env.MAX_BODY_BYTES, 262_144, 1_024, 10_485_760),
    maxMessages: intVar(env.MAX_MESSAGES, 100, 1, 1_000),
    maxMessageChars: intVar(env.MAX_MESSAGE_CHARS, 20_000, 100, 200_000),
    corsOrigins: listVar(env.CORS_ORIGINS),
    searchRecentWindow: intVar(env.SEARCH_RECENT_WINDOW, 20_000, 1, 10_000_000),
    // The rate-limiting binding takes only 10 or 60.
    rateLimitPeriodSeconds: intVar(env.RATE_LIMIT_PERIOD_SECONDS, 60, 10, 60) < 60 ? 10 : 60,
    addDelivery: env.ADD_DELIVERY?.trim().toLowerCase() === "queued" ? "queued" : "direct",
    queueRetryBaseSeconds,
    queueRetryMaxSeconds: intVar(env.QUEUE_RETRY_MAX_SECONDS, 600, queueRetryBaseSeconds, QUEUE_MAX_DELAY_SECONDS),
  };
  configCache.set(env, config);
  return config;
}

function tenantsOf(
  authTokens: string[],
  tenantsJson: string | undefined,
  selfHosted: boolean,
): TenantConfig | TenantConfigError {
  try {
    const table = parseTenants(authTokens, tenantsJson);
    // The self-hosted server serves every tenant: a tenant's own MemOS key would be silently unused.
    const ownKey = table.tenants.find(
      (tenant) => tenant.memosApiKey !== undefined || tenant.memosBaseUrl !== undefined,
    );
    if (selfHosted && ownKey !== undefined) {
      return new TenantConfigError(
        `TENANTS: tenant "${ownKey.name}" brings its own MemOS key or URL, but MEMOS_SERVER_URL sends every tenant to the self-hosted server; remove one.`,
      );
    }
    return table;
  } catch (error) {
    if (error instanceof TenantConfigError) return error;
    throw error;
  }
}
