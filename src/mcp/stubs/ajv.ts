/**
 * Build-time stand-in for `ajv` (wrangler.toml `[alias]`, mirrored in vitest.config.ts).
 * The MCP SDK imports ajv statically for its default JSON Schema validator, whose compiled
 * validators need `new Function`, which workerd refuses ("Code generation from strings
 * disallowed"). The server passes `CfWorkerJsonSchemaValidator` instead, so nothing here
 * runs; anything that does try to compile a schema fails loudly. See docs/mcp.md "Bundle".
 */
const STUBBED = "ajv is stubbed out in memos-edge (it cannot run in workerd): pass jsonSchemaValidator explicitly";

export default class Ajv {
  getSchema(): undefined {
    return undefined;
  }
  compile(): never {
    throw new Error(STUBBED);
  }
  errorsText(): string {
    return "";
  }
}
