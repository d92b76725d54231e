/**
 * Build-time stand-in for `zod/v3`, the zod 3 API shipped inside zod 4 (see ./ajv.ts): the MCP
 * SDK uses it only to build objects from zod 3 shapes; memos-edge's tool schemas are zod 4.
 */
export function object(): never {
  throw new Error("zod 3 schemas are not supported in memos-edge (zod/v3 is stubbed out)");
}
