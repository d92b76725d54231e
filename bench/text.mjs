/**
 * Deterministic, realistic memory text for the benchmark: the fake upstream's
 * search payload, the load bodies and the embedded-store seed all come from
 * here, so two runs measure exactly the same data.
 */

/** mulberry32: tiny, fast, good enough for test data, and seedable. */
export function prng(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (random, list) => list[Math.floor(random() * list.length)];

const WORDS = {
  name: [
    "Anna",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noor",
    "Oscar",
    "Priya",
  ],
  relation: [
    "sister",
    "brother",
    "mother",
    "father",
    "colleague",
    "manager",
    "best friend",
    "neighbour",
    "cousin",
    "partner",
  ],
  city: [
    "Berlin",
    "Lisbon",
    "Toronto",
    "Osaka",
    "Nairobi",
    "Austin",
    "Melbourne",
    "Krakow",
    "Seoul",
    "Bogota",
    "Edinburgh",
    "Hangzhou",
  ],
  food: [
    "mango",
    "ramen",
    "sourdough bread",
    "dark chocolate",
    "spicy curry",
    "oat porridge",
    "sushi",
    "lentil soup",
    "tacos",
    "green tea ice cream",
  ],
  drink: [
    "black coffee",
    "oolong tea",
    "oat milk latte",
    "sparkling water",
    "matcha",
    "hot chocolate",
    "espresso",
    "jasmine tea",
  ],
  hobby: [
    "trail running",
    "bouldering",
    "watercolour painting",
    "chess",
    "baking",
    "birdwatching",
    "cycling",
    "piano",
    "pottery",
    "sailing",
  ],
  time: ["morning", "evening", "weekend", "lunch break", "late night", "Monday morning"],
  project: [
    "the billing migration",
    "the mobile app redesign",
    "the Q3 roadmap",
    "the data warehouse",
    "the onboarding flow",
    "the search service",
  ],
  tool: ["Notion", "VS Code", "Figma", "Postgres", "Dify", "Excel", "Kubernetes", "Obsidian"],
  allergy: ["peanuts", "shellfish", "gluten", "lactose", "cats", "pollen"],
  day: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
  cnFood: ["芒果", "火锅", "饺子", "小笼包", "绿茶", "咖啡"],
  cnCity: ["上海", "北京", "杭州", "成都", "深圳"],
};

/** Things a user tells an assistant that a memory layer is meant to keep. */
const TEMPLATES = [
  (r) => `My favourite food is ${pick(r, WORDS.food)}, especially on a ${pick(r, WORDS.day)}.`,
  (r) => `I usually drink ${pick(r, WORDS.drink)} in the ${pick(r, WORDS.time)}.`,
  (r) => `My ${pick(r, WORDS.relation)} ${pick(r, WORDS.name)} lives in ${pick(r, WORDS.city)}.`,
  (r) => `I am allergic to ${pick(r, WORDS.allergy)}, so please keep that in mind for recipes.`,
  (r) => `I picked up ${pick(r, WORDS.hobby)} last year and practise it every ${pick(r, WORDS.day)}.`,
  (r) => `At work I am leading ${pick(r, WORDS.project)} and we track it in ${pick(r, WORDS.tool)}.`,
  (r) => `I am flying to ${pick(r, WORDS.city)} next month to visit ${pick(r, WORDS.name)}.`,
  (r) => `Please remind me that ${pick(r, WORDS.name)} prefers ${pick(r, WORDS.drink)} over ${pick(r, WORDS.drink)}.`,
  (r) =>
    `I moved from ${pick(r, WORDS.city)} to ${pick(r, WORDS.city)} for a new job in ${2015 + Math.floor(r() * 10)}.`,
  (r) => `My weekly sync about ${pick(r, WORDS.project)} is on ${pick(r, WORDS.day)} mornings.`,
  (r) => `I do not like ${pick(r, WORDS.food)}, it reminds me of school lunches.`,
  (r) => `I keep my notes in ${pick(r, WORDS.tool)} and write a short journal every ${pick(r, WORDS.time)}.`,
  (r) => `我最喜欢吃${pick(r, WORDS.cnFood)}，周末常去${pick(r, WORDS.cnCity)}看朋友。`,
  (r) => `我住在${pick(r, WORDS.cnCity)}，每天早上喝${pick(r, WORDS.cnFood)}。`,
];
/** The last templates are Chinese; they get about 1 in 20 sentences. */
const CHINESE_TEMPLATES = 2;

/** One sentence a user might say; about 5 % are Chinese. */
export function sentence(random) {
  const english = TEMPLATES.length - CHINESE_TEMPLATES;
  if (random() < 0.05) return TEMPLATES[english + Math.floor(random() * CHINESE_TEMPLATES)](random);
  return TEMPLATES[Math.floor(random() * english)](random);
}

/** What an assistant answers to a stated fact. */
export function reply(random) {
  return pick(random, [
    "Got it, I will remember that.",
    "Thanks for telling me, noted.",
    "Understood. I will keep that in mind next time.",
    "Noted! Anything else I should know?",
  ]);
}

/** Keyword queries and the question-style queries Dify forwards verbatim. */
export function queries(random, count) {
  const shapes = [
    (r) => `${pick(r, WORDS.drink)} ${pick(r, WORDS.time)}`,
    (r) => `${pick(r, WORDS.relation)} ${pick(r, WORDS.city)}`,
    (r) => `allergic ${pick(r, WORDS.allergy)}`,
    (r) => `${pick(r, WORDS.hobby)}`,
    (r) => `What does the user like to drink in the ${pick(r, WORDS.time)}?`,
    (r) => `Where does my ${pick(r, WORDS.relation)} live?`,
    (r) => `Which project am I leading at work and what tool do we use?`,
    (r) => `Do I have any food allergies I mentioned before?`,
    (r) => `喜欢吃${pick(r, WORDS.cnFood)}`,
  ];
  return Array.from({ length: count }, () => pick(random, shapes)(random));
}

/** The 20 memories and few preferences the fake MemOS answers every search with. */
export function searchPayload(seed = 7) {
  const random = prng(seed);
  const now = Date.UTC(2026, 10, 1);
  const memories = Array.from({ length: 20 }, (_, index) => {
    const created = now - Math.floor(random() * 90 * 86_400_000);
    return {
      id: `mem-${(index + 1).toString().padStart(4, "0")}-${Math.floor(random() * 1e9).toString(16)}`,
      memory_key: pick(random, ["food preference", "family", "work project", "travel plan", "daily routine", "health"]),
      memory_value: sentence(random),
      memory_type: pick(random, ["LongTermMemory", "UserMemory"]),
      create_time: created,
      update_time: created + Math.floor(random() * 86_400_000),
      conversation_id: `conv-${Math.floor(random() * 1e6)}`,
      status: "activated",
      confidence: Math.round((0.7 + random() * 0.3) * 100) / 100,
      tags: [pick(random, ["food", "family", "work", "travel", "health"]), "bench"],
      relativity: Math.round((0.95 - index * 0.03) * 1000) / 1000,
    };
  });
  const preferences = Array.from({ length: 3 }, () => ({
    preference_type: pick(random, ["explicit_preference", "implicit_preference"]),
    preference: `The user prefers ${pick(random, WORDS.drink)} and ${pick(random, WORDS.food)}.`,
    reasoning: "Stated more than once across recent conversations.",
    conversation_id: `conv-${Math.floor(random() * 1e6)}`,
  }));
  return { memory_detail_list: memories, preference_detail_list: preferences };
}
