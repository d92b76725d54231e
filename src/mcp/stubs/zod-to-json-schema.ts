/**
 * Build-time stand-in for `zod-to-json-schema` (see ./ajv.ts): the MCP SDK calls it only for
 * zod 3 schemas; memos-edge's tool schemas are zod 4, converted by zod's own `toJSONSchema`.
 */
export function zodToJsonSchema(): never {
  throw new Error("zod 3 schemas are not supported in memos-edge (zod-to-json-schema is stubbed out)");
}
