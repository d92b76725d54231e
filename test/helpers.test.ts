/** The shared builders in `helpers.ts` speak the wire formats they claim to. */
import { describe, expect, it } from "vitest";
import { pythonJson } from "./helpers";

describe("pythonJson", () => {
  it("writes bodies byte for byte as Python's json.dumps does", () => {
    // python3 -c 'import json; print(json.dumps({...}))' on the same value.
    expect(
      pythonJson({
        user_id: "用户-7",
        messages: [{ role: "user", content: 'I\'m "q" \x7f 🥭 —\n' }],
        n: 6,
        b: false,
        x: null,
        f: 0.3,
      }),
    ).toBe(
      '{"user_id": "\\u7528\\u6237-7", "messages": [{"role": "user", "content": "I\'m \\"q\\" \\u007f \\ud83e\\udd6d \\u2014\\n"}], "n": 6, "b": false, "x": null, "f": 0.3}',
    );
  });
});
