/**
 * The MCP server of one request. memos-edge's MCP endpoint is stateless, so a
 * server is built for every HTTP request, with the tools that request may
 * use (whose memory is fixed per request: see context.ts).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { VERSION } from "../version";
import type { ToolScope } from "./context";
import { registerAddMemory } from "./tools/add-memory";
import { registerDeleteMemory } from "./tools/delete-memory";
import { registerForgetUser } from "./tools/forget-user";
import { registerListMemories } from "./tools/list-memories";
import { registerSearchMemory } from "./tools/search-memory";

/**
 * Every tool, in the order clients list them. The two that remove memories
 * carry `destructiveHint: true`, so clients ask before calling them.
 */
const TOOLS: ((server: McpServer, scope: ToolScope) => void)[] = [
  registerAddMemory,
  registerSearchMemory,
  registerListMemories,
  registerDeleteMemory,
  registerForgetUser,
];

const INSTRUCTIONS =
  "Long-term memory for the user. Search it before answering when earlier conversations may matter; add to it when the user shares something worth remembering.";

export function buildMcpServer(scope: ToolScope): McpServer {
  const server = new McpServer(
    { name: "memos-edge", version: VERSION },
    {
      instructions: INSTRUCTIONS,
      // The SDK's default validator (ajv) compiles with `new Function`, which workerd
      // refuses; ajv itself is stubbed out of the bundle (wrangler.toml [alias]).
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  );
  for (const register of TOOLS) register(server, scope);
  return server;
}
