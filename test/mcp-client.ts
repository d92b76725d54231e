/** The official MCP SDK client, connected to the Worker in the same isolate: shared by the MCP tests. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { CLOUD, ORIGIN, TOKEN, call, type EnvOverrides } from "./helpers";

/** A `fetch` for the SDK client that reaches the Worker (with the given backend) without leaving the isolate. */
export function workerFetch(overrides: EnvOverrides, seen: string[] = []) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const target = new URL(url);
    const response = await call(`${target.pathname}${target.search}`, init, overrides);
    seen.push(`${init?.method ?? "GET"} ${target.pathname} ${response.status}`);
    return response;
  };
}

export interface Connection {
  /** Query string of the MCP URL, e.g. `?user_id=alice`. */
  query?: string;
  headers?: Record<string, string>;
  overrides?: EnvOverrides;
  seen?: string[];
}

export async function connect({ query = "", headers = {}, overrides = CLOUD, seen }: Connection = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${ORIGIN}/mcp${query}`), {
    fetch: workerFetch(overrides, seen),
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } },
  });
  // The client checks structured content against the tools' output schemas; its default
  // validator (ajv) is stubbed out of this Worker, as it cannot run in workerd.
  const client = new Client(
    { name: "memos-edge-test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
}

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOf(result: CallToolResult): string {
  const [first] = result.content;
  return first?.type === "text" ? first.text : "";
}
