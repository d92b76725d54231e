/**
 * Turns a free-text query into a safe FTS5 plan for the trigram index.
 * Every term is emitted as a quoted phrase, so characters FTS5 reads as syntax
 * (`"`, `*`, `-`, `OR`, parentheses, `:`) are only ever searched for as text.
 */

export interface QueryPlan {
  /** Terms of at least trigram length, lower-cased (what `match` searches for). */
  terms: string[];
  /** FTS5 MATCH expression of OR-ed phrases, or null when no term is long enough for trigrams. */
  match: string | null;
  /** Terms shorter than a trigram (e.g. two-character Chinese words), searched with LIKE instead. */
  shortTerms: string[];
}

const TRIGRAM = 3;
/** Bounds the SQL a single query can produce (D1 binds at most 100 parameters). */
const MAX_TERMS = 48;
const MAX_SHORT_TERMS = 16;
/**
 * Bounds the work of one search (README "Embedded store"): only the start of a
 * longer query is planned, and a longer word is searched by its start. A
 * trigram phrase costs in proportion to its length; 250,000 characters of one
 * word held the Worker for seconds.
 */
export const MAX_QUERY_CHARS = 2_000;
export const MAX_TERM_CHARS = 64;
/**
 * English words too common to tell memories apart; dropped unless the query
 * has nothing else. They would also make a large store rank most of its rows.
 */
const STOP_WORDS = new Set(
  (
    "the and for are was were you your yours our ours they them their theirs this that these those what which who whom " +
    "whose when where why how with from into onto about than then there here has have had having does did doing done " +
    "can could would should will shall may might must not but any all some very just also too its it's i'm i've"
  ).split(" "),
);
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Control characters separate too: a NUL inside a quoted FTS5 phrase ends the string. */
const SEPARATORS = /[\s\p{P}\p{Cc}]+/u;

export function planQuery(query: string): QueryPlan {
  const phrases = new Set<string>();
  const shortTerms = new Set<string>();
  for (const token of query.slice(0, MAX_QUERY_CHARS).normalize("NFKC").toLowerCase().split(SEPARATORS)) {
    const chars = [...token].slice(0, MAX_TERM_CHARS);
    if (chars.length === 0) continue;
    const term = chars.join("");
    if (chars.length < TRIGRAM) {
      // One Latin letter matches nearly everything; one CJK character is a word.
      if (chars.length === 2 || CJK.test(term)) shortTerms.add(term);
      continue;
    }
    if (CJK.test(term) && chars.length > TRIGRAM) {
      // Chinese is written without spaces: a run is a sentence, so match its trigrams
      // and let bm25 rank documents that share more of them.
      for (let i = 0; i + TRIGRAM <= chars.length; i++) phrases.add(chars.slice(i, i + TRIGRAM).join(""));
    } else {
      phrases.add(term);
    }
  }
  const meaningful = [...phrases].filter((term) => !STOP_WORDS.has(term));
  const terms = (meaningful.length > 0 ? meaningful : [...phrases]).slice(0, MAX_TERMS);
  return {
    terms,
    match: terms.length > 0 ? terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ") : null,
    shortTerms: [...shortTerms].slice(0, MAX_SHORT_TERMS),
  };
}

/** Escapes LIKE wildcards; pair with `ESCAPE '\'`. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** Folds text the way `planQuery` folds queries, so terms can be looked up in it. */
export function foldText(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * A 0–1 score that means the same in a table of ten rows or ten million:
 * mostly the share of the query's terms the memory contains, plus bm25
 * relative to the best hit. (Raw bm25 is unbounded, and on a small table its
 * IDF is near zero, so it cannot be a score by itself.)
 */
export function relevance(coverage: number, rank: number, bestRank: number): number {
  const relative = bestRank < 0 ? Math.min(1, rank / bestRank) : 1;
  return round(0.8 * coverage + 0.2 * relative);
}

export function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
