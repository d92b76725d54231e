/**
 * What every MCP tool shares: the request it runs in, whose memory the
 * connection fixed, the `user_id` argument when it fixed none, and the turn
 * of any failure into a tool result a model can read.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { noteError } from "../http/errors";
import { MAX_ID_LENGTH } from "../http/schemas";

export interface ToolScope {
  /** The HTTP request the tool call arrived in: config, backend, caller, log line. */
  c: Context<AppEnv>;
  /**
   * The user the connection fixed (`X-Memos-User-Id` or `?user_id=` on the MCP URL).
   * When set, no tool takes a `user_id` argument: a model cannot name someone else.
   */
  fixedUser: string | undefined;
}

const USER_ID_ARGUMENT = z
  .string()
  .trim()
  .min(1)
  .max(MAX_ID_LENGTH)
  .describe("Whose memory: the id of the person you are talking to, exactly as given to you.");

/**
 * The tool's input schema: `shape`, plus a required `user_id` unless the
 * connection fixed the user. With a fixed user an argument named `user_id` is
 * not in the schema, so it is dropped on parsing (zod strips unknown keys) and
 * never reaches the tool. Typed with `user_id` optional in both cases: the
 * tool reads `scope.fixedUser ?? args.user_id`.
 */
export function withUser<S extends z.ZodRawShape>(shape: S, scope: ToolScope) {
  const schema = scope.fixedUser === undefined ? z.object({ user_id: USER_ID_ARGUMENT, ...shape }) : z.object(shape);
  return schema as unknown as z.ZodObject<S & { user_id: z.ZodOptional<z.ZodString> }>;
}

/**
 * Runs a tool; any failure (invalid input, MemOS down, D1 down, a bug) comes
 * back as a tool result with `isError: true` and the `AppError` message, which
 * never holds a secret or a stack. The SDK would otherwise answer a thrown
 * error's own message, whatever it held. The failure is noted on the request's
 * log line like on every other surface.
 */
export function safely<A>(scope: ToolScope, run: (args: A) => Promise<CallToolResult>) {
  return async (args: A): Promise<CallToolResult> => {
    try {
      return await run(args);
    } catch (error) {
      const failure = noteError(scope.c, error);
      const retry = failure.retryAfter === undefined ? "" : ` Retry after ${failure.retryAfter} s.`;
      return {
        isError: true,
        content: [
          {
            type: "text",
            text: `${failure.message}${retry} (${failure.code}, request id ${scope.c.var.requestId})`,
          },
        ],
      };
    }
  };
}
