/** Answer shaping (`src/memos/answers.ts`), directly: MemOS search data into `memories` and `text`. */
import { describe, expect, it } from "vitest";
import { NO_MEMORIES_TEXT, memoryEntries, shapeSearch } from "../src/memos/answers";
import type { MemosSearchData } from "../src/memos/types";

/** One memory of every kind, the lists given in an order other than MemOS's. */
const everyKind: MemosSearchData = {
  skill_detail_list: [{ memory_key: "Baking", memory_value: "Can bake sourdough bread." }],
  tool_memory_detail_list: [{ description: "Used the weather tool for Lisbon." }],
  event_detail_list: [{ name: "Move", memory: "Moved to Lisbon in May." }],
  profile_detail_list: [{ title: "Job", content: "Works as a nurse." }],
  preference_detail_list: [{ preference: "Prefers good-value hotels.", preference_type: "implicit_preference" }],
  memory_detail_list: [
    { memory_key: "Summer trip", memory_value: "Plans to visit Guangzhou this summer." },
    { memory_value: "Has a cat named Miso." },
  ],
};

describe("shapeSearch: text", () => {
  it("writes one heading per kind in MemOS's list order, one `- key: value` or `- value` line per memory", () => {
    expect(shapeSearch(everyKind).text).toBe(
      [
        "Facts:\n- Summer trip: Plans to visit Guangzhou this summer.\n- Has a cat named Miso.",
        "Preferences:\n- Prefers good-value hotels.",
        "Profile:\n- Job: Works as a nurse.",
        "Events:\n- Move: Moved to Lisbon in May.",
        "Tool memories:\n- Used the weather tool for Lisbon.",
        "Skills:\n- Baking: Can bake sourdough bread.",
      ].join("\n\n"),
    );
  });

  it("writes no heading for a kind without memories", () => {
    const { text } = shapeSearch({ memory_detail_list: [{ memory_value: "Likes tea." }], skill_detail_list: [] });
    expect(text).toBe("Facts:\n- Likes tea.");
  });

  it("writes a preference as `- preference`, without its type", () => {
    const { text } = shapeSearch({
      preference_detail_list: [{ preference: "Likes window seats.", preference_type: "explicit_preference" }],
    });
    expect(text).toBe("Preferences:\n- Likes window seats.");
  });

  it("reads a preference from memory_value or content when MemOS puts it there", () => {
    const { text } = shapeSearch({
      preference_detail_list: [{ memory_value: "Likes quiet rooms." }, { content: "Avoids flights at night." }],
    });
    expect(text).toBe("Preferences:\n- Likes quiet rooms.\n- Avoids flights at night.");
  });

  it("trims values and keys, and skips items without text", () => {
    const { text, memories } = shapeSearch({
      memory_detail_list: [
        { memory_key: "  Pet ", memory_value: "  Has a cat.  " },
        { memory_key: "Empty", memory_value: "   " },
        { id: "no-text" },
        { memory_value: 42 },
      ],
    });
    expect(text).toBe("Facts:\n- Pet: Has a cat.");
    expect(memories.map((memory) => memory.content)).toEqual(["Has a cat."]);
  });

  it("ends with MemOS's preference_note", () => {
    const { text } = shapeSearch({
      preference_detail_list: [{ preference: "Prefers good-value hotels." }],
      preference_note: "Preferences are inferred.",
    });
    expect(text).toBe("Preferences:\n- Prefers good-value hotels.\n\nPreferences are inferred.");
  });

  it("answers the preference_note alone when no memory matched", () => {
    expect(shapeSearch({ preference_note: "Nothing inferred yet." }).text).toBe("Nothing inferred yet.");
  });

  it(`says "${NO_MEMORIES_TEXT}" when nothing matched, also for empty lists and a blank note`, () => {
    expect(NO_MEMORIES_TEXT).toBe("No relevant memories found.");
    expect(shapeSearch({})).toEqual({ memories: [], text: NO_MEMORIES_TEXT });
    expect(shapeSearch({ memory_detail_list: [], preference_detail_list: [], preference_note: "  " })).toEqual({
      memories: [],
      text: NO_MEMORIES_TEXT,
    });
  });
});

describe("shapeSearch: memories", () => {
  it("lists every memory in the order of the text, with its kind as type", () => {
    const { memories } = shapeSearch(everyKind);
    expect(memories.map((memory) => [memory.type, memory.content])).toEqual([
      ["fact", "Plans to visit Guangzhou this summer."],
      ["fact", "Has a cat named Miso."],
      ["preference", "Prefers good-value hotels."],
      ["profile", "Works as a nurse."],
      ["event", "Moved to Lisbon in May."],
      ["tool", "Used the weather tool for Lisbon."],
      ["skill", "Can bake sourdough bread."],
    ]);
  });

  it("gives id as a string, score from relativity, created_at as ISO 8601 from epoch ms, and conversation_id", () => {
    const [memory] = shapeSearch({
      memory_detail_list: [
        {
          id: 42,
          memory_value: "Plans to visit Guangzhou.",
          relativity: 0.83,
          score: 0.1,
          create_time: 1766494806624,
          conversation_id: "0610",
        },
      ],
    }).memories;
    expect(memory).toEqual({
      id: "42",
      content: "Plans to visit Guangzhou.",
      type: "fact",
      score: 0.83,
      created_at: "2025-12-23T13:00:06.624Z",
      conversation_id: "0610",
    });
  });

  it("takes score when there is no relativity", () => {
    const [memory] = shapeSearch({ memory_detail_list: [{ memory_value: "x", score: 0.5 }] }).memories;
    expect(memory?.score).toBe(0.5);
  });

  it("answers null for an absent or unusable id, score, created_at and conversation_id", () => {
    const memories = shapeSearch({
      memory_detail_list: [
        { memory_value: "bare" },
        {
          id: null,
          memory_value: "odd",
          relativity: "0.9",
          score: Number.NaN,
          create_time: "2025-12-23",
          conversation_id: 610,
        },
      ],
    }).memories;
    for (const memory of memories) {
      expect(memory).toMatchObject({ id: null, score: null, created_at: null, conversation_id: null });
    }
  });

  it("keeps a score of 0 rather than treating it as missing", () => {
    const [memory] = shapeSearch({ memory_detail_list: [{ memory_value: "x", relativity: 0, score: 0.7 }] }).memories;
    expect(memory?.score).toBe(0);
  });
});

describe("memoryEntries", () => {
  it("gives each memory its title: memory_key, title or name, and preference_type for preferences", () => {
    const entries = memoryEntries(everyKind);
    expect(entries.map((entry) => [entry.memory.content, entry.title])).toEqual([
      ["Plans to visit Guangzhou this summer.", "Summer trip"],
      ["Has a cat named Miso.", undefined],
      ["Prefers good-value hotels.", "implicit_preference"],
      ["Works as a nurse.", "Job"],
      ["Moved to Lisbon in May.", "Move"],
      ["Used the weather tool for Lisbon.", undefined],
      ["Can bake sourdough bread.", "Baking"],
    ]);
  });

  it("holds the same memories as shapeSearch", () => {
    expect(memoryEntries(everyKind).map((entry) => entry.memory)).toEqual(shapeSearch(everyKind).memories);
  });

  it("answers no entries for data without memories", () => {
    expect(memoryEntries({ preference_note: "note only" })).toEqual([]);
  });
});
