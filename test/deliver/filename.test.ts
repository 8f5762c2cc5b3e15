import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { contentDisposition, streamFilenameParam } from "../../src/deliver/filename";

const UID = "c0ffee00000000000000000000000001";

const HOSTILE = [
  'say "cheese"',
  "line\r\nSet-Cookie: a=b",
  "nul\u0000byte",
  "../etc/passwd",
  "a\\b",
  "x".repeat(10_240),
  "é".repeat(10_240),
  "🎬 Launch 🚀",
  "Crème brûlée",
  "",
  "   ",
  "keynote.mp4",
  "日本語",
  "a; filename=evil.exe",
  "100%.mov",
  "\u202Egpj.exe",
];

/** The parameters of a Content-Disposition header, parsed strictly enough to notice an early end. */
function parseDisposition(header: string): { filename: string; filenameStar: string } {
  const match = /^attachment; filename="((?:[^"\\]|\\.)*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/.exec(header);
  if (match === null) throw new Error(`malformed Content-Disposition: ${JSON.stringify(header)}`);
  return { filename: match[1] ?? "", filenameStar: decodeURIComponent(match[2] ?? "") };
}

describe("streamFilenameParam (redirect mode, Stream's ?filename=)", () => {
  test.each([
    ["Launch keynote", "Launch_keynote"],
    ["Crème brûlée", "Creme_brulee"],
    ["Straße, Æsir & Øresund", "Strasse_AEsir_Oresund"],
    ["Œuvre ﬁnale — Łódź", "OEuvre_finale_Lodz"],
    ["Don’t stop", "Dont_stop"],
    ["Part 1 - Intro", "Part_1-Intro"],
    ["  __--hello--__  ", "hello"],
    ["keynote.mp4", "keynote"],
    ["podcast.M4A", "podcast"],
    ["clip.mov", "clip_mov"],
    ["../etc/passwd", "etc_passwd"],
    ["a\\b", "a_b"],
    ['say "cheese"', "say_cheese"],
    ["line\r\nbreak\u0000", "line_break"],
    ["🎬 Launch 🚀", "Launch"],
  ])("%j becomes %j", (input, expected) => {
    expect(streamFilenameParam(input, UID)).toBe(expected);
  });

  test.each([[null], [""], ["   "], ["日本語"], ["🎬🚀"], [".mp4"], ["---"]])(
    "%j leaves nothing usable, so the UID is used",
    (input) => {
      expect(streamFilenameParam(input, UID)).toBe(UID);
    },
  );

  test("every output fits Stream's alphabet and 120-character limit", () => {
    for (const input of HOSTILE) {
      expect(streamFilenameParam(input, UID)).toMatch(/^[A-Za-z0-9_-]{1,120}$/);
    }
    expect(streamFilenameParam("x".repeat(10_240), UID)).toBe("x".repeat(120));
    expect(streamFilenameParam(`${"a".repeat(119)} b`, UID)).toBe("a".repeat(119));
  });
});

describe("contentDisposition (stream mode)", () => {
  test("an ASCII name appears in both parameters with the forced extension", () => {
    expect(contentDisposition("Launch keynote", UID, "mp4")).toBe(
      `attachment; filename="Launch keynote.mp4"; filename*=UTF-8''Launch%20keynote.mp4`,
    );
  });

  test("accented Latin is transliterated in the fallback and kept exactly in filename*", () => {
    expect(parseDisposition(contentDisposition("Crème brûlée", UID, "mp4"))).toEqual({
      filename: "Creme brulee.mp4",
      filenameStar: "Crème brûlée.mp4",
    });
  });

  test("a non-Latin name falls back to the UID in filename and is kept in filename*", () => {
    expect(parseDisposition(contentDisposition("日本語", UID, "m4a"))).toEqual({
      filename: `${UID}.m4a`,
      filenameStar: "日本語.m4a",
    });
  });

  test("emoji survive in filename* and are replaced in the fallback", () => {
    expect(parseDisposition(contentDisposition("🎬 Launch 🚀", UID, "mp4"))).toEqual({
      filename: "Launch.mp4",
      filenameStar: "🎬 Launch 🚀.mp4",
    });
  });

  test.each([
    ["keynote.mp4", "m4a", "keynote.m4a"],
    ["holiday.MOV", "mp4", "holiday.mp4"],
    ["Q3 results v1.5", "mp4", "Q3 results v1.5.mp4"],
  ] as const)("the extension of %j is replaced: %s gives %j", (input, extension, expected) => {
    expect(parseDisposition(contentDisposition(input, UID, extension)).filenameStar).toBe(expected);
  });

  test.each([
    ["../etc/passwd", "etc_passwd.mp4"],
    ["a\\b", "a_b.mp4"],
    ['say "cheese"', "say cheese.mp4"],
    ["line\r\nSet-Cookie: a=b", "lineSet-Cookie_ a=b.mp4"],
    ["nul\u0000byte", "nulbyte.mp4"],
    ["a; filename=evil.exe", "a filename=evil.exe.mp4"],
    ["\u202Egpj.exe", "gpj.exe.mp4"],
  ])("%j is defused to %j", (input, expected) => {
    const { filename, filenameStar } = parseDisposition(contentDisposition(input, UID, "mp4"));
    expect(filenameStar).toBe(expected);
    expect(filename).toBe(expected);
  });

  test.each([[null], [""], ["   "], ["..."], [".mp4"], ["\r\n\u0000"]])("%j falls back to the UID", (input) => {
    expect(contentDisposition(input, UID, "mp4")).toBe(
      `attachment; filename="${UID}.mp4"; filename*=UTF-8''${UID}.mp4`,
    );
  });

  test("the name is cut to 200 UTF-8 bytes on a code-point boundary before the extension", () => {
    const ascii = parseDisposition(contentDisposition("x".repeat(10_240), UID, "mp4"));
    expect(ascii.filenameStar).toBe(`${"x".repeat(200)}.mp4`);
    // 2-byte and 4-byte characters: 200 bytes hold 100 "é", and 50 "🎬".
    expect(parseDisposition(contentDisposition("é".repeat(10_240), UID, "mp4")).filenameStar).toBe(
      `${"é".repeat(100)}.mp4`,
    );
    const emoji = parseDisposition(contentDisposition(`a${"🎬".repeat(100)}`, UID, "mp4")).filenameStar;
    expect(emoji).toBe(`a${"🎬".repeat(49)}.mp4`);
    expect(emoji.isWellFormed()).toBe(true);
  });

  test("no output carries CR, LF, NUL or a quote that ends the parameter early", () => {
    for (const input of HOSTILE) {
      for (const extension of ["mp4", "m4a"] as const) {
        const header = contentDisposition(input, UID, extension);
        expect(header).not.toMatch(/[\r\n\u0000]/);
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        const { filename, filenameStar } = parseDisposition(header);
        expect(filename).not.toMatch(/["\\/]/);
        expect(filenameStar).not.toMatch(/["\\/\r\n\u0000]/);
        expect(new TextEncoder().encode(filenameStar).length).toBeLessThanOrEqual(200 + 4);
        // Headers built from it must be accepted by the platform.
        expect(new Headers({ "content-disposition": header }).get("content-disposition")).toBe(header);
      }
    }
    for (const input of HOSTILE) expect(streamFilenameParam(input, UID)).not.toMatch(/[\r\n\u0000"]/);
  });
});

describe("any string, lone UTF-16 surrogates included", () => {
  // fast-check's "binary" unit is every code point but never half a surrogate pair, so lone
  // surrogates and the header's delimiters are mixed in on purpose.
  const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
  const delimiter = fc.constantFrom("\r", "\n", "\u0000", '"', ";", "\\", "/", ".", " ", "%", "'", ".mp4", "\u202E");
  const anyName = fc
    .array(fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), loneSurrogate, delimiter), { maxLength: 40 })
    .map((parts) => parts.join(""));

  test.each([["a\uD800b"], ["\uDC00"], ["\uDFFF\uD800"], ["x\uD83C"]])("%j neither throws nor leaks the surrogate", (input) => {
    expect(streamFilenameParam(input, UID)).toMatch(/^[A-Za-z0-9_-]{1,120}$/);
    const header = contentDisposition(input, UID, "mp4");
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(parseDisposition(header).filenameStar.isWellFormed()).toBe(true);
  });

  test('"a\\uD800b" keeps its letters, with U+FFFD for the surrogate in filename*', () => {
    expect(streamFilenameParam("a\uD800b", UID)).toBe("a_b");
    expect(parseDisposition(contentDisposition("a\uD800b", UID, "mp4"))).toEqual({
      filename: "a_b.mp4",
      filenameStar: "a\uFFFDb.mp4",
    });
  });

  test("contentDisposition and streamFilenameParam never throw, and the header is printable ASCII without CR/LF", () => {
    fc.assert(
      fc.property(anyName, fc.constantFrom("mp4" as const, "m4a" as const), (name, extension) => {
        const header = contentDisposition(name, UID, extension);
        expect(header).not.toMatch(/[\r\n]/);
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        parseDisposition(header);
        expect(new Headers({ "content-disposition": header }).get("content-disposition")).toBe(header);
        expect(streamFilenameParam(name, UID)).toMatch(/^[A-Za-z0-9_-]{1,120}$/);
      }),
      { numRuns: 1000 },
    );
  });
});
