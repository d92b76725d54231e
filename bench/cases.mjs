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

const edgeAdd = (said, conversation = CONVERSATION) =>
  JSON.stringify({ user_id: USER, conversation_id: conversation, user_message: said, assistant_message: ASSISTANT });
const memosAdd = (said) =>
  JSON.stringify({
    user_id: USER,
    conversation_id: CONVERSATION,
    messages: [
      { role: "user", content: said },
      { role: "assistant", content: ASSISTANT },
    ],
  });

/**
 * A body function that never repeats (within the run `tag` names), so dedupe
 * never hits. `shape` gets the message and the request's number.
 */
function unique(shape, tag) {
  const random = prng(42);
  const pool = Array.from({ length: 64 }, () => sentence(random));
  let n = 0;
  return () => {
    n += 1;
    return shape(`${pool[n % pool.length]} (${tag} #${n})`, n);
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
      edge: { path: "/v1/add", body: unique((said) => edgeAdd(said), `edge ${tag}`) },
      memos: { path: "/add/message", body: unique((said) => memosAdd(said), `memos ${tag}`) },
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

/**
 * The queued add: the fresh add's body to memos-edge with `Prefer:
 * respond-async` (see `queuedTarget`), answered 202 once enqueued. memos-edge
 * only; its direct counterpart is the fresh add's memos-edge row. Each add is
 * its own conversation, as from many Dify chats: the consumer delivers one
 * conversation's adds one after another (README "Queued adds": Order), so
 * adds of a single conversation would measure that ordering, not the queue.
 */
export function queuedCase(tag) {
  // Conversation ids say which phase sent the add, so the load run's arrivals are counted apart from stragglers.
  let phase = "warm";
  return {
    name: "queued add",
    queued: true,
    setPhase: (next) => (phase = next),
    conversations: (of) => `q-${tag}-${of}-`,
    edge: { path: "/v1/add", body: unique((said, n) => edgeAdd(said, `q-${tag}-${phase}-${n}`), `queued ${tag}`) },
  };
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

/** memos-edge asked for queued delivery: the header, not the body field, so the body is the fresh add's. */
export function queuedTarget({ edge }) {
  return {
    ...EDGE,
    name: "memos-edge",
    url: edge.workerUrl,
    server: edge,
    headers: { ...EDGE.headers, prefer: "respond-async" },
  };
}

/** The same two Workers through wrangler dev's proxy: what `wrangler dev` adds on top, for reference. */
export function proxiedTargets({ baseline, edge }) {
  return [
    { name: "baseline via dev proxy", url: baseline.url, server: baseline, ...BASELINE },
    { name: "memos-edge via dev proxy", url: edge.url, server: edge, ...EDGE },
  ];
}
