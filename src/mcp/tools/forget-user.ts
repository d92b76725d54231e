/** `forget_user`: delete the user's whole memory, with a dry run that only counts. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";
import { validate } from "../../http/input";
import { forgetRequestSchema } from "../../http/schemas";
import { forgetUser } from "../../manage/operations";
import { need } from "../../http/middleware";
import { safely, withUser, type ToolScope } from "../context";

const DESCRIPTION = [
  "Delete everything stored about the user. Only when the user clearly asks to be forgotten entirely.",
  "Call first with dry_run true to learn how many memories would be deleted, tell the user, and call again with dry_run false once they confirm.",
].join(" ");

const shape = {
  dry_run: z.boolean().describe("true: only count what would be deleted; false: delete it."),
};

export function registerForgetUser(server: McpServer, scope: ToolScope): void {
  server.registerTool(
    "forget_user",
    {
      title: "Forget the user",
      description: DESCRIPTION,
      inputSchema: withUser(shape, scope),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    safely(scope, async ({ user_id, dry_run }) => {
      need(scope.c, "delete");
      const input = validate(forgetRequestSchema, { user_id: scope.fixedUser ?? user_id, dry_run });
      const { text, ...result } = await forgetUser(scope.c, input.user_id, input.dry_run === true);
      return { content: [{ type: "text", text }], structuredContent: result };
    }),
  );
}
