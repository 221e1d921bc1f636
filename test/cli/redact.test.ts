import { describe, expect, it } from "vitest";
import { addSecret, redact } from "../../scripts/cli/redact.ts";

describe("redact", () => {
  it.each([
    ["postgres://kata:pw@127.0.0.1:5432/kata", "postgres://kata:***@127.0.0.1:5432/kata"],
    ["a malformed postgres//kata:pw@h/x too", "a malformed postgres//kata:***@h/x too"],
    ["redis://:secret@127.0.0.1:6379", "redis://:***@127.0.0.1:6379"],
    ["host=x password=abc user=y", "host=x password=*** user=y"],
    ["PGPASSWORD=abc psql", "PGPASSWORD=*** psql"],
  ])("%s", (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it("leaves what holds no password alone", () => {
    for (const text of [
      "at 127.0.0.1:5432: refused",
      "git@github.com:x/y",
      "postgres://kata@h/db",
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it("hides a registered secret anywhere, but not short words", () => {
    addSecret("correct-horse-battery");
    addSecret("kata");
    expect(redact("echoed correct-horse-battery by a tool")).toBe("echoed *** by a tool");
    expect(redact("kata")).toBe("kata");
  });
});
