/**
 * What the cloud-backend comparison sends: three cases (search, fresh add,
 * duplicate add), each to three targets — memos-edge, the baseline forwarder,
 * and the fake MemOS called directly. memos-edge takes its own webhook body;
 * the other two take the MemOS body memos-edge would have sent.
 */
import { prng, sentence } from "./text.mjs";

export const UPSTREAM_KEY = "bench-key";
export const EDGE_TOKEN = "bench-token";
const USER = "bench-user";
const CONVERSATION = "c1";
const SEARCH_QUERY = "What does the user like to drink in the morning?";
const ASSISTANT = "Noted, I will remember that.";

const edgeAdd = (said) =>
  JSON.stringify({ user_id: USER, conversation_id: CONVERSATION, user_message: said, assistant_message: ASSISTANT });
const memosAdd = (said) =>
  JSON.stringify({
    user_id: USER,
    conversation_id: CONVERSATION,
    messages: [
      { role: "user", content: said },
      { role: "assistant", content: ASSISTANT },
    ],
  });

/** A body function that never repeats (within the run `tag` names), so dedupe never hits. */
function unique(shape, tag) {
  const random = prng(42);
  const pool = Array.from({ length: 64 }, () => sentence(random));
  let n = 0;
  return () => {
    n += 1;
    return shape(`${pool[n % pool.length]} (${tag} #${n})`);
  };
}

/**
 * The cases of one phase. `tag` makes this phase's adds differ from every
 * other phase's, because KV keeps dedupe records across phases.
 */
export function cloudCases(tag) {
  const repeated = `I switched my morning drink to matcha (${tag}).`;
  return [
    {
      name: "search",
      edge: { path: "/v1/search", body: JSON.stringify({ user_id: USER, query: SEARCH_QUERY, top_k: 20 }) },
      memos: {
        path: "/search/memory",
        body: JSON.stringify({ user_id: USER, query: SEARCH_QUERY, memory_limit_number: 20 }),
      },
    },
    {
      name: "fresh add",
      edge: { path: "/v1/add", body: unique(edgeAdd, `edge ${tag}`) },
      memos: { path: "/add/message", body: unique(memosAdd, `memos ${tag}`) },
    },
    {
      name: "duplicate add",
      // Sent once and awaited before the load, so every measured request is a replay.
      primeFirst: true,
      edge: { path: "/v1/add", body: edgeAdd(repeated) },
      memos: { path: "/add/message", body: memosAdd(repeated) },
    },
  ];
}

const BASELINE = { headers: {}, request: "memos" };
const EDGE = { headers: { authorization: `Bearer ${EDGE_TOKEN}` }, request: "edge" };

/**
 * The three targets, in the order they are driven, each Worker on its runtime
 * workerd's own socket. `server` is the wrangler dev whose workerd CPU is read.
 */
export function targets({ upstream, baseline, edge }) {
  return [
    { name: "direct", url: upstream.url, headers: { authorization: `Token ${UPSTREAM_KEY}` }, request: "memos" },
    { name: "baseline", url: baseline.workerUrl, server: baseline, ...BASELINE },
    { name: "memos-edge", url: edge.workerUrl, server: edge, ...EDGE },
  ];
}

/** The same two Workers through wrangler dev's proxy: what `wrangler dev` adds on top, for reference. */
export function proxiedTargets({ baseline, edge }) {
  return [
    { name: "baseline via dev proxy", url: baseline.url, server: baseline, ...BASELINE },
    { name: "memos-edge via dev proxy", url: edge.url, server: edge, ...EDGE },
  ];
}
