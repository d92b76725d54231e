/** Credential reading and caller authentication (`src/http/auth.ts`), directly, without the Worker. */
import { describe, expect, it } from "vitest";
import { UnauthorizedError, authenticate, readCredential } from "../src/http/auth";
import { AppError } from "../src/http/errors";
import { callerId } from "./helpers";

function request(headers: Record<string, string> = {}, query = ""): Request {
  return new Request(`https://memos-edge.example/v1/search${query}`, { method: "POST", headers });
}

const read = (headers: Record<string, string> = {}, query = "") => readCredential(request(headers, query));

describe("readCredential", () => {
  it.each([
    ["Authorization: Bearer <token>", { Authorization: "Bearer tok-1" }],
    ["Authorization: Token <token> (MemOS clients)", { Authorization: "Token tok-1" }],
    ["a scheme in any case", { Authorization: "bEaReR tok-1" }],
    ["Authorization: Basic <raw token> (Dify custom tool, not base64)", { Authorization: "Basic tok-1" }],
    ["Authorization: <bare token>", { Authorization: "tok-1" }],
    ["X-API-Key: <token>", { "X-API-Key": "tok-1" }],
    ["X-API-Key: Bearer <token>", { "X-API-Key": "Bearer tok-1" }],
    ["X-API-Key: Basic <raw token>", { "X-API-Key": "Basic tok-1" }],
    ["surrounding and inner extra whitespace", { Authorization: "  Bearer   tok-1  " }],
  ])("reads %s", (_name, headers) => {
    expect(read(headers)).toEqual({ candidates: ["tok-1"], malformed: false });
  });

  it("reads Basic base64(user:pass) as both the encoded value and the password after the first colon", () => {
    const encoded = btoa("memos:tok:1");
    expect(read({ Authorization: `Basic ${encoded}` })).toEqual({ candidates: [encoded, "tok:1"], malformed: false });
  });

  it("reads Basic base64 without a colon as the raw value only", () => {
    const encoded = btoa("justatoken");
    expect(read({ Authorization: `Basic ${encoded}` })).toEqual({ candidates: [encoded], malformed: false });
  });

  it('reads both tokens of two joined Authorization headers ("Bearer a, Bearer b")', () => {
    expect(read({ Authorization: "Bearer a, Bearer b" })).toEqual({ candidates: ["a", "b"], malformed: false });
  });

  it("reads ?key= (Dify custom tool api_key_query), trimmed", () => {
    expect(read({}, "?key=tok-1")).toEqual({ candidates: ["tok-1"], malformed: false });
    expect(read({}, "?key=%20tok-1%20")).toEqual({ candidates: ["tok-1"], malformed: false });
  });

  it("ignores an empty ?key=", () => {
    expect(read({}, "?key=")).toEqual({ candidates: [], malformed: false });
  });

  it("collects Authorization, then X-API-Key, then ?key=", () => {
    expect(read({ Authorization: "Bearer a", "X-API-Key": "b" }, "?key=c").candidates).toEqual(["a", "b", "c"]);
  });

  it("answers no candidate and not malformed when nothing is sent", () => {
    expect(read()).toEqual({ candidates: [], malformed: false });
    expect(read({ Authorization: "" })).toEqual({ candidates: [], malformed: false });
  });

  it.each([
    ["an unknown scheme with two words", "Foo bar baz"],
    ["an unknown scheme", "Digest abc"],
    ["a known scheme with two values", "Bearer tok-1 extra"],
  ])("flags %s as malformed, reading no token from it", (_name, value) => {
    expect(read({ Authorization: value })).toEqual({ candidates: [], malformed: true });
  });

  it("still reads the well-formed part of joined headers while flagging the malformed one", () => {
    expect(read({ Authorization: "Bearer a, Foo bar baz" })).toEqual({ candidates: ["a"], malformed: true });
  });
});

describe("authenticate", () => {
  const tokens = ["tok-1", "tok-2"];

  it("fails closed with not_configured (503) when no tokens are configured, whatever is sent", async () => {
    const refusal = authenticate(request({ Authorization: "Bearer tok-1" }), []);
    await expect(refusal).rejects.toBeInstanceOf(AppError);
    await expect(refusal).rejects.toMatchObject({ code: "not_configured", status: 503 });
  });

  it("refuses a request without a credential with 401, not malformed", async () => {
    const refusal = authenticate(request(), tokens);
    await expect(refusal).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(refusal).rejects.toMatchObject({ code: "unauthorized", status: 401, malformed: false });
  });

  it("refuses a header in a form it does not read with 401 marked malformed, naming the form it reads", async () => {
    const refusal = authenticate(request({ Authorization: "Foo bar baz" }), tokens);
    await expect(refusal).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(refusal).rejects.toMatchObject({ code: "unauthorized", status: 401, malformed: true });
    await expect(refusal).rejects.toThrow("Bearer <token>");
  });

  it.each([
    ["a wrong token", "Bearer nope"],
    ["a prefix of a configured token", "Bearer tok-"],
    ["a configured token with more after it", "Bearer tok-12"],
  ])("refuses %s with 401, not malformed", async (_name, value) => {
    const refusal = authenticate(request({ Authorization: value }), tokens);
    await expect(refusal).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(refusal).rejects.toMatchObject({ code: "unauthorized", malformed: false });
  });

  it("answers a 16-hex caller id derived from the token, never the token itself", async () => {
    const id = await authenticate(request({ Authorization: "Bearer tok-1" }), tokens);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).toBe(await callerId("tok-1"));
    expect(id).not.toContain("tok-1");
  });

  it("answers the same caller id for the same token in every form and on every call", async () => {
    const ids = await Promise.all(
      [
        request({ Authorization: "Bearer tok-1" }),
        request({ Authorization: "Token tok-1" }),
        request({ Authorization: `Basic ${btoa("user:tok-1")}` }),
        request({ "X-API-Key": "tok-1" }),
        request({}, "?key=tok-1"),
        request({ Authorization: "Bearer tok-1" }),
      ].map((each) => authenticate(each, tokens)),
    );
    expect(new Set(ids)).toEqual(new Set([await callerId("tok-1")]));
  });

  it("answers different caller ids for different tokens", async () => {
    const first = await authenticate(request({ Authorization: "Bearer tok-1" }), tokens);
    const second = await authenticate(request({ Authorization: "Bearer tok-2" }), tokens);
    expect(second).toBe(await callerId("tok-2"));
    expect(second).not.toBe(first);
  });

  it("accepts a configured token among other candidates (two joined headers, one wrong)", async () => {
    const id = await authenticate(request({ Authorization: "Bearer nope, Bearer tok-2" }), tokens);
    expect(id).toBe(await callerId("tok-2"));
  });
});
