/**
 * What the setup page hands a builder, with this Worker's URL filled in: one
 * section per Dify screen (and one for n8n / webhooks), each a list of the
 * fields to type and the text to paste. Pure: origin in, text out. Tokens never
 * appear here; where one goes, the text says so.
 */
import CHATFLOW_DSL from "../../docs/dify-chatflow.yml";

/** The MEMOS_EDGE_URL value shipped in docs/dify-chatflow.yml, replaced by the Worker's own URL. */
export const DSL_PLACEHOLDER_URL = "https://memos-edge.example.workers.dev";
const DSL_URL_LINE = `    value: ${DSL_PLACEHOLDER_URL}\n`;
const TOKEN_HINT = "your caller token (one of AUTH_TOKENS)";
export const CHATFLOW_FILENAME = "memos-edge-chatflow.yml";
export const CHATFLOW_PATH = "/setup/dify-chatflow.yml";

/**
 * The chatflow DSL of docs/ (the single source: bundled as text) with its
 * MEMOS_EDGE_URL environment variable set to `origin`. Single-quoted, so no
 * host can change the YAML around it.
 */
export function chatflowDsl(origin: string): string {
  if (!CHATFLOW_DSL.includes(DSL_URL_LINE))
    throw new Error("docs/dify-chatflow.yml lost its MEMOS_EDGE_URL value line");
  return CHATFLOW_DSL.replace(DSL_URL_LINE, `    value: '${origin.replaceAll("'", "''")}'\n`);
}

export interface SetupField {
  label: string;
  value: string;
  /** A value to paste gets a Copy button; an instruction ("your caller token") does not. */
  copy: boolean;
}

export interface SetupSnippet {
  label: string;
  text: string;
  /** Offered as a download from this path as well. */
  download?: { path: string; filename: string };
}

export interface SetupSection {
  id: string;
  title: string;
  /** Where in Dify (or the tool) the fields go. */
  where: string;
  fields: SetupField[];
  snippets: SetupSnippet[];
  note?: string;
}

const paste = (label: string, value: string): SetupField => ({ label, value, copy: true });
const type = (label: string, value: string): SetupField => ({ label, value, copy: false });

export function setupSections(origin: string): SetupSection[] {
  return [
    {
      id: "chatflow",
      title: "Dify chatflow (import)",
      where: "Studio → Create from DSL file (Import DSL file)",
      fields: [
        type("After import: environment variable MEMOS_EDGE_TOKEN (Secret)", TOKEN_HINT),
        type("After import: LLM node", "pick your own model (Dify offers to install the OpenAI plugin it names)"),
      ],
      snippets: [
        {
          label: "Chatflow DSL (MEMOS_EDGE_URL is set to this Worker)",
          text: chatflowDsl(origin),
          download: { path: CHATFLOW_PATH, filename: CHATFLOW_FILENAME },
        },
      ],
      note: "Recall before the LLM, save after the Answer, both as x-www-form-urlencoded bodies. Both memory nodes fail soft: see “Chat answers but never remembers” below.",
    },
    {
      id: "http-node",
      title: "HTTP Request node (by hand)",
      where: "A chatflow or workflow → add an HTTP Request node",
      fields: [
        paste("Search: URL (method POST)", `${origin}/v1/search?format=text`),
        type("Authorization", "API-Key → Bearer → API Key {{#env.MEMOS_EDGE_TOKEN#}} (a Secret environment variable)"),
        paste("Search: body x-www-form-urlencoded (Bulk Edit text, key:value per line)", SEARCH_FORM),
        type("Search: output", "body = ready-to-prompt text; timeout connect 5, read 10, write 10"),
        paste("Add: URL (method POST, after the Answer node)", `${origin}/v1/add`),
        paste("Add: body x-www-form-urlencoded (Bulk Edit text; llm = your LLM node)", ADD_FORM),
        type("Add: timeout", "connect 5, read 30, write 10"),
        type("Both: retry and error handling", "retry on, 3 times, 100 ms; error handling “Default value” (fail soft)"),
      ],
      snippets: [],
      note: "Use x-www-form-urlencoded, not JSON: Dify pastes variables into a JSON body unescaped and then “repairs” it, which alters messages with quotes or backslashes.",
    },
    {
      id: "external-knowledge",
      title: "External Knowledge API",
      where: "Knowledge → External Knowledge API → Add an External Knowledge API",
      fields: [
        paste("Name", "memos-edge"),
        paste("API Endpoint", `${origin}/dify`),
        type("API Key", TOKEN_HINT),
        type(
          "Then: Connect to an External Knowledge Base → External Knowledge ID",
          "the memory user id to search, e.g. user-42",
        ),
      ],
      snippets: [],
      note: "Dify appends /retrieval itself. One knowledge base searches one memory user.",
    },
    {
      id: "api-extension",
      title: "API-based extension",
      where: "Settings → API Extension → Add API Extension",
      fields: [
        paste("Name", "memos-edge memory"),
        paste("API Endpoint", `${origin}/dify/extension`),
        type("API-key", TOKEN_HINT),
        type("In the app", "an input variable named user_id, then an API-based Variable using this extension"),
      ],
      snippets: [],
    },
    {
      id: "custom-tool",
      title: "Custom tool (OpenAPI)",
      where: "Tools → Custom → Create Custom Tool → Import from URL",
      fields: [
        paste("Schema URL", `${origin}/openapi.json`),
        type("Authorization method", "API Key → header Authorization, prefix Bearer"),
        type("Value", TOKEN_HINT),
      ],
      snippets: [],
      note: "Tools add_memory and search_memory. The Test button of add_memory stores a memory: test with a throwaway user_id.",
    },
    {
      id: "memos-plugin",
      title: "Official MemOS plugin",
      where: "Plugins → MemOS → settings",
      fields: [paste("MemOS URL", `${origin}/api/openmem/v1`), type("MemOS API Key", TOKEN_HINT)],
      snippets: [],
      note: "Fill the plugin's conversation_id (e.g. with sys.conversation_id), so its retries are recognised as one add.",
    },
    {
      id: "webhooks",
      title: "n8n, Zapier, Make, curl",
      where: "Any HTTP request step (n8n: HTTP Request node with Header Auth)",
      fields: [
        paste("Add: URL (POST)", `${origin}/v1/add`),
        paste("Search: URL (POST)", `${origin}/v1/search`),
        paste("Header name", "Authorization"),
        type("Header value", `Bearer ${TOKEN_HINT}`),
        type(
          "Body",
          "JSON or form fields: user_id, user_message, assistant_message, conversation_id / user_id, query, top_k",
        ),
      ],
      snippets: [{ label: "curl", text: curlSnippet(origin) }],
      note: "Send an Idempotency-Key header with adds (an id of the event), so re-deliveries are stored once.",
    },
  ];
}

const SEARCH_FORM = ["user_id:{{#sys.user_id#}}", "query:{{#sys.query#}}", "top_k:8"].join("\n");

const ADD_FORM = [
  "user_id:{{#sys.user_id#}}",
  "conversation_id:{{#sys.conversation_id#}}",
  "user_message:{{#sys.query#}}",
  "assistant_message:{{#llm.text#}}",
  "idempotency_key:{{#sys.workflow_run_id#}}",
].join("\n");

function curlSnippet(origin: string): string {
  return [
    "# Put your caller token in the environment first (not in scripts you share):",
    "# export MEMOS_EDGE_TOKEN=...",
    `curl -s -X POST '${origin}/v1/add' \\`,
    `  -H "Authorization: Bearer $MEMOS_EDGE_TOKEN" -H 'Idempotency-Key: msg-8812' \\`,
    "  --data-urlencode 'user_id=user-42' --data-urlencode 'conversation_id=chat-7' \\",
    "  --data-urlencode 'user_message=My favourite fruit is mango.' --data-urlencode 'assistant_message=Noted!'",
    "",
    `curl -s -X POST '${origin}/v1/search?format=text' \\`,
    `  -H "Authorization: Bearer $MEMOS_EDGE_TOKEN" \\`,
    "  --data-urlencode 'user_id=user-42' --data-urlencode 'query=favourite fruit'",
  ].join("\n");
}
