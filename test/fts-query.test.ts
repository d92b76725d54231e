/** The query planner of the embedded store: pure, so tested directly. */
import { describe, expect, it } from "vitest";
import { likePattern, planQuery, relevance } from "../src/store/fts-query";

describe("planQuery", () => {
  it("quotes every term, so FTS5 syntax is searched as text", () => {
    expect(planQuery('tea OR "coffee" NEAR(x) col:val -milk*').match).toBe(
      '"tea" OR "coffee" OR "near" OR "col" OR "val" OR "milk"',
    );
  });

  it("splits on quotes and other punctuation, keeping symbols inside terms", () => {
    expect(planQuery('abc"def').match).toBe('"abc" OR "def"');
    expect(planQuery('c++ "x++y"').match).toBe('"c++" OR "x++y"');
  });

  it("splits Chinese runs into overlapping trigrams", () => {
    expect(planQuery("喜欢芒果吗").terms).toEqual(["喜欢芒", "欢芒果", "芒果吗"]);
  });

  it("keeps terms shorter than a trigram for LIKE, dropping single Latin letters", () => {
    expect(planQuery("芒果 a go")).toEqual({ terms: [], match: null, shortTerms: ["芒果", "go"] });
  });

  it("drops English stop words unless nothing else is left", () => {
    expect(planQuery("what is the favourite fruit").terms).toEqual(["favourite", "fruit"]);
    expect(planQuery("what the").terms).toEqual(["what", "the"]);
  });

  it("bounds the number of terms", () => {
    expect(planQuery(Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ")).terms).toHaveLength(48);
  });
});

describe("likePattern", () => {
  it("escapes LIKE wildcards", () => {
    expect(likePattern("50%_\\")).toBe("%50\\%\\_\\\\%");
  });
});

describe("relevance", () => {
  it("is 1 for a memory holding every term that is also the best bm25 hit, and stays within 0–1", () => {
    expect(relevance(1, -3, -3)).toBe(1);
    expect(relevance(0.5, -1, -4)).toBe(0.45);
    expect(relevance(0, -0.000001, -0.000001)).toBe(0.2);
  });
});
