/**
 * Tenants (README "Tenants and scopes"): the `TENANTS` secret binds caller
 * tokens to tenants, each token with its scopes. Read once per isolate and
 * validated as a whole: one bad entry fails every token closed (503
 * `not_configured`), never open, and the error names the entry, never a token.
 */
import * as z from "zod";

export const SCOPES = ["read", "write", "delete"] as const;
export type Scope = (typeof SCOPES)[number];

/** No `__` inside and no `_` at the end: then no tenant's prefix (`name__`) can start another's. */
const TENANT_NAME = /^[a-z0-9_-]{1,32}$/;
const AMBIGUOUS_NAME = /__|_$/;

const tenantSchema = z.strictObject({
  tokens: z
    .record(z.string().min(1, "a token is empty"), z.array(z.enum(SCOPES)).min(1, "a token has no scopes"))
    .refine((tokens) => Object.keys(tokens).length > 0, "no tokens"),
  memos_api_key: z.string().min(1).optional(),
  memos_base_url: z.url({ protocol: /^https?$/ }).optional(),
});

/** Who a caller is, once authenticated. */
export interface Tenant {
  /** `null` for the shared space of plain AUTH_TOKENS. */
  name: string | null;
  scopes: ReadonlySet<Scope>;
  /** The tenant's own MemOS key and base URL, when it brings them. */
  memosApiKey: string | undefined;
  memosBaseUrl: string | undefined;
}

export interface TenantConfig {
  /** Every token memos-edge accepts (AUTH_TOKENS and the tenants'), in one list. */
  tokens: string[];
  /** Per token (same index as `tokens`): its tenant. */
  tenants: Tenant[];
  /** The names of every configured tenant (a shared-space id must not look like one of their prefixes). */
  names: string[];
}

export class TenantConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TenantConfigError";
  }
}

const SHARED: Omit<Tenant, "scopes"> = { name: null, memosApiKey: undefined, memosBaseUrl: undefined };
const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

/** Parses AUTH_TOKENS and TENANTS into one table; throws TenantConfigError naming the first bad entry. */
export function parseTenants(authTokens: string[], tenantsJson: string | undefined): TenantConfig {
  const tokens = [...authTokens];
  const tenants: Tenant[] = authTokens.map(() => ({ ...SHARED, scopes: ALL_SCOPES }));
  if (tenantsJson === undefined || tenantsJson.trim() === "") return { tokens, tenants, names: [] };

  let parsed: unknown;
  try {
    parsed = JSON.parse(tenantsJson);
  } catch {
    throw new TenantConfigError("TENANTS is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TenantConfigError("TENANTS must be a JSON object of tenants by name.");
  }
  const names = Object.keys(parsed);
  for (const [position, name] of names.entries()) {
    // Never quoted: a token pasted where a name belongs would be published by this message.
    if (!TENANT_NAME.test(name) || AMBIGUOUS_NAME.test(name)) {
      throw new TenantConfigError(
        `TENANTS: the name of tenant #${position + 1} must be 1–32 of a-z 0-9 _ -, with no "__" and no "_" at the end.`,
      );
    }
    const entry = tenantSchema.safeParse((parsed as Record<string, unknown>)[name]);
    if (!entry.success) {
      const issue = entry.error.issues[0];
      // The path of a bad token holds the token itself: say "a token", never which.
      const where = issue?.path[0] === "tokens" && issue.path.length > 1 ? "tokens" : (issue?.path.join(".") ?? "");
      throw new TenantConfigError(
        `TENANTS: tenant "${name}" is invalid at ${where || "its top level"}: ${safeMessage(issue?.message)}`,
      );
    }
    for (const [token, scopes] of Object.entries(entry.data.tokens)) {
      if (tokens.includes(token)) {
        throw new TenantConfigError(
          `TENANTS: tenant "${name}" names a token that is also in AUTH_TOKENS or another tenant; give each token one meaning.`,
        );
      }
      tokens.push(token);
      tenants.push({
        name,
        scopes: new Set(scopes),
        memosApiKey: entry.data.memos_api_key?.trim().replace(/^token\s+/i, ""),
        memosBaseUrl: entry.data.memos_base_url?.replace(/\/+$/, ""),
      });
    }
  }
  return { tokens, tenants, names };
}

/** zod's messages may quote the input (a token); keep only the ones that cannot. */
function safeMessage(message: string | undefined): string {
  if (message === undefined) return "invalid";
  return message.includes('"') ? "invalid value" : message;
}
