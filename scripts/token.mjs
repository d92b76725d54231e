#!/usr/bin/env node
/**
 * `npm run token`: makes a strong random caller token and prints how to set it.
 * The token is printed once and stored nowhere. `--raw` prints the token alone.
 */
import { randomBytes } from "node:crypto";

// 32 random bytes (256 bits), base64url: no comma (AUTH_TOKENS separates tokens with commas), no space.
const token = `mse_${randomBytes(32).toString("base64url")}`;

if (process.argv.includes("--raw")) {
  console.log(token);
} else {
  console.log(`A new caller token (shown once, saved nowhere):

  ${token}

Set it on the deployed Worker (paste the token when asked):

  npx wrangler secret put AUTH_TOKENS

Use the same token in Dify (the MEMOS_EDGE_TOKEN secret, or the API key fields) and
test it on the Worker's setup page (its URL, path /). For wrangler dev, put
AUTH_TOKENS=<token> in .dev.vars instead.

Rotation: AUTH_TOKENS takes several tokens, comma-separated. Put "<new>,<old>",
move every caller to the new token, then put "<new>" alone.`);
}
