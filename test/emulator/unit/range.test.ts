import { describe, expect, test } from "vitest";
import { contentRange, decideRange } from "../../../emulator/src/delivery/range";

const SIZE = 1000;

describe("decideRange", () => {
  test.each([
    ["absent", null],
    ["empty", ""],
    ["another unit", "items=0-5"],
    ["no equals sign", "bytes 0-5"],
    ["no dash", "bytes=5"],
    ["a bare dash", "bytes=-"],
    ["letters", "bytes=a-b"],
    ["a negative start", "bytes=--5"],
    ["last before first", "bytes=10-5"],
    ["an empty range set", "bytes= , "],
    ["two ranges", "bytes=0-1,5-9"],
    ["a range and a suffix", "bytes=0-1, -5"],
  ])("%s sends the full body", (_name, header) => {
    expect(decideRange(header, SIZE)).toEqual({ kind: "full" });
  });

  test.each([
    ["bytes=0-499", 0, 499],
    ["bytes=500-", 500, 999],
    ["bytes=999-999", 999, 999],
    ["bytes=900-5000", 900, 999],
    ["bytes=-100", 900, 999],
    ["bytes=-5000", 0, 999],
    ["BYTES=1-2", 1, 2],
    ["  bytes = 10 - 20  ", 10, 20],
    ["bytes=0-0,", 0, 0],
    ["bytes=0-99999999999999999999999", 0, 999],
  ])("%s selects %i-%i", (header, start, end) => {
    expect(decideRange(header, SIZE)).toEqual({ kind: "partial", start, end });
  });

  test.each([
    ["a start at the size", "bytes=1000-", SIZE],
    ["a start past the size", "bytes=2000-3000", SIZE],
    ["a zero suffix", "bytes=-0", SIZE],
    ["any range of an empty body", "bytes=0-", 0],
    ["a suffix of an empty body", "bytes=-10", 0],
  ])("%s is unsatisfiable", (_name, header, size) => {
    expect(decideRange(header, size)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("contentRange", () => {
  test("a partial response names its inclusive span and the full size", () => {
    expect(contentRange({ kind: "partial", start: 0, end: 499 }, SIZE)).toBe("bytes 0-499/1000");
  });

  test("an unsatisfiable response names only the full size", () => {
    expect(contentRange({ kind: "unsatisfiable" }, SIZE)).toBe("bytes */1000");
  });
});
