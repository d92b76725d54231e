/**
 * Caller authentication. Callers hold memos-edge tokens (AUTH_TOKENS), never
 * the MemOS key. Every form Dify and MemOS clients produce is read:
 *   Authorization: Bearer <t> | Token <t> | Basic <t> | <t>
 *   X-API-Key: <t>
 *   ?key=<t>   (Dify custom tools' "api_key_query")
 * Dify's custom-tool "basic" prefix sends the raw token without base64, and its
 * HTTP node base64-encodes only `user:pass`; both are read.
 */
import { sha256Hex } from "../lib/digest";
import { AppError } from "./errors";

const SCHEMES = new Set(["bearer", "token", "basic"]);
/**
 * Work before authentication is bounded: real clients send one credential,
 * Dify at most two joined headers. A longer header or more pieces is refused
 * unread, and a piece longer than every configured token is never hashed.
 */
export const MAX_CREDENTIAL_HEADER_CHARS = 4_096;
export const MAX_CREDENTIAL_CANDIDATES = 8;

export interface Credential {
  candidates: string[];
  /** An Authorization header was sent but is not in any form we read. */
  malformed: boolean;
}

export function readCredential(request: Request): Credential {
  const candidates: string[] = [];
  let malformed = false;
  // Dify sends two Authorization headers when a builder types one and also sets the node's
  // auth; they arrive joined by ", ". A custom tool applies its prefix to X-API-Key too.
  for (const name of ["Authorization", "X-API-Key"]) {
    const header = request.headers.get(name) ?? "";
    if (header.length > MAX_CREDENTIAL_HEADER_CHARS) return { candidates: [], malformed: true };
    const pieces = header.split(",", MAX_CREDENTIAL_CANDIDATES + 1);
    if (pieces.length > MAX_CREDENTIAL_CANDIDATES) return { candidates: [], malformed: true };
    for (const value of pieces) {
      const read = readHeaderValue(value.trim());
      candidates.push(...read.candidates);
      malformed ||= read.malformed;
    }
  }
  const queryKey = new URL(request.url).searchParams.get("key")?.trim();
  if (queryKey) candidates.push(queryKey);
  if (candidates.length > MAX_CREDENTIAL_CANDIDATES) return { candidates: [], malformed: true };
  return { candidates, malformed };
}

/** `<token>`, or `<scheme> <token>` with Bearer, Token or Basic. */
function readHeaderValue(value: string): Credential {
  if (value === "") return { candidates: [], malformed: false };
  const parts = value.split(/\s+/);
  const [first = "", second] = parts;
  if (parts.length === 1) return { candidates: [first], malformed: false };
  if (parts.length === 2 && second && SCHEMES.has(first.toLowerCase())) {
    const basic = first.toLowerCase() === "basic" ? basicPassword(second) : [];
    return { candidates: [second, ...basic], malformed: false };
  }
  return { candidates: [], malformed: true };
}

function basicPassword(encoded: string): string[] {
  try {
    const decoded = atob(encoded);
    const colon = decoded.indexOf(":");
    return colon >= 0 ? [decoded.slice(colon + 1)] : [];
  } catch {
    return [];
  }
}

/** 401 for a missing or wrong token; `malformed` when a credential was sent in a form we do not read. */
export class UnauthorizedError extends AppError {
  readonly malformed: boolean;

  constructor(message: string, malformed = false) {
    super("unauthorized", message);
    this.malformed = malformed;
  }
}

/** Returns a stable, non-secret id for the matching token (scopes dedupe keys and rate limits), or throws 401. */
export async function authenticate(request: Request, tokens: string[]): Promise<string> {
  return callerId(tokens[await matchToken(request, tokens)] ?? "");
}

/** The non-secret id of a token: the first 16 hex digits of a SHA-256 of it (computed once per isolate). */
export async function callerId(token: string): Promise<string> {
  let id = callerIds.get(token);
  if (id === undefined) {
    id = (await sha256Hex(`caller:${token}`)).slice(0, 16);
    callerIds.set(token, id);
  }
  return id;
}

/** Configured tokens only reach this map (a token is looked up after it matched), so it stays small. */
const callerIds = new Map<string, string>();

/**
 * The index of the configured token the request carries, or throws 401.
 * Digests are compared with timingSafeEqual against every configured token,
 * so timing reveals neither which token nor how much matched.
 */
export async function matchToken(request: Request, tokens: string[]): Promise<number> {
  if (tokens.length === 0) {
    throw new AppError(
      "not_configured",
      "No caller tokens are configured: make one with `npm run token`, then `npx wrangler secret put AUTH_TOKENS` (this Worker's page at / says the same).",
    );
  }
  const credential = readCredential(request);
  if (credential.candidates.length === 0) {
    throw new UnauthorizedError(
      credential.malformed
        ? "The Authorization header is not in a form memos-edge reads; send 'Authorization: Bearer <token>'."
        : "A caller token is required: send 'Authorization: Bearer <token>'.",
      credential.malformed,
    );
  }
  const expected = await tokenDigests(tokens);
  const longest = Math.max(...tokens.map((token) => token.length));
  let matched: number | undefined;
  for (const candidate of credential.candidates) {
    // Cannot equal any token; its length is no secret of ours.
    if (candidate.length > longest) continue;
    const given = await digest(candidate);
    expected.forEach((token, index) => {
      if (crypto.subtle.timingSafeEqual(given, token) && matched === undefined) matched = index;
    });
  }
  if (matched === undefined) throw new UnauthorizedError("The caller token is not valid.");
  return matched;
}

/** Digests of the configured tokens, computed once per config (tokens change only with a deploy). */
const digestCache = new WeakMap<string[], ArrayBuffer[]>();

async function tokenDigests(tokens: string[]): Promise<ArrayBuffer[]> {
  const cached = digestCache.get(tokens);
  if (cached) return cached;
  const digests = await Promise.all(tokens.map(digest));
  digestCache.set(tokens, digests);
  return digests;
}

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
}
