// The catalogue of the share pages' words (src/language/): every language says every
// thing English says, with the same placeholders; Accept-Language picks among them as RFC 9110
// reads it; dates, sizes, lengths and "in 2 days" are written the visitor's way.
import { describe, expect, test } from "vitest";
import { CATALOGUE, LANGUAGES, phrase, type Catalogue } from "../../src/language/catalogue";
import { formatDuration, formatSize, fromNow, recipientLocale, utcDateTime } from "../../src/language/locale";
import { escapeHtml } from "../../src/pages/html";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const locale = (tag: string) => recipientLocale(tag, null);
/** Intl puts no-break spaces (U+00A0, U+202F) where a line must not break: compared as spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("the catalogue", () => {
  test("offers English, German, French, Spanish and Japanese, one object each", () => {
    expect([...LANGUAGES].sort()).toEqual(["de", "en", "es", "fr", "ja"]);
    expect(Object.keys(CATALOGUE).sort()).toEqual([...LANGUAGES].sort());
  });

  test.each(LANGUAGES.filter((language) => language !== "en"))("%s has every key of English and no other, none empty, each with English's placeholders", (language) => {
    const words: Catalogue = CATALOGUE[language];
    expect(Object.keys(words).sort()).toEqual(Object.keys(CATALOGUE.en).sort());
    for (const [key, english] of Object.entries(CATALOGUE.en)) {
      const translated = words[key as keyof Catalogue];
      expect(translated.trim(), `${language}.${key}`).not.toBe("");
      expect(placeholders(translated), `${language}.${key}`).toEqual(placeholders(english));
    }
  });

  test("English has no empty phrase either", () => {
    for (const [key, text] of Object.entries(CATALOGUE.en)) expect(text.trim(), key).not.toBe("");
  });

  test("a language missing a key does not compile", () => {
    const { download: _, ...withoutOne } = CATALOGUE.de;
    // @ts-expect-error the key "download" is missing
    const broken: Catalogue = withoutOne;
    // What this test holds is the line above: tsc (npm run typecheck) fails without the error it expects.
    void broken;
  });

  test("a phrase passes its words through the encoder (a page's escaping) and takes its values as given", () => {
    expect(phrase("en", (words) => words.toUpperCase(), "sharedVideoBy", { who: "<b>Acme</b>" })).toBe("<b>Acme</b> SHARED THIS VIDEO WITH YOU TO DOWNLOAD.");
    expect(phrase("en", escapeHtml, "exhaustedWhy", { count: "3" })).toBe("Every download it allowed has been used (3 of 3).");
  });
});

describe("Accept-Language", () => {
  test.each([
    [null, "en", "en"],
    ["", "en", "en"],
    ["fr", "fr", "fr"],
    ["fr-CA,fr;q=0.9,en;q=0.8", "fr", "fr-CA"],
    ["DE-de", "de", "de-DE"],
    ["ja-JP", "ja", "ja-JP"],
    ["en-GB,en;q=0.9", "en", "en-GB"],
    // Not offered: the next one that is, by weight.
    ["pt-BR,pt;q=0.9,es;q=0.8,en;q=0.7", "es", "es"],
    ["en;q=0.5, de", "de", "de"],
    // q=0 is "not this"; a weight that is not one is ignored.
    ["de;q=0, ja", "ja", "ja"],
    ["fr;q=abc, es", "es", "es"],
    // Equal weights keep the visitor's order.
    ["es, fr", "es", "es"],
    ["*", "en", "en"],
    ["zh-Hant-TW, ko", "en", "en"],
  ])("%j: %s (formatted as %s)", (header, language, format) => {
    expect(recipientLocale(header, null)).toEqual({ language, format, negotiated: true });
  });

  test("a malformed regional tag keeps its language and formats as that language", () => {
    expect(recipientLocale("fr-!!, en", null)).toEqual({ language: "fr", format: "fr", negotiated: true });
  });

  test("a tag longer than any language, script and region make (35 characters) formats as its language; case does not matter", () => {
    // Well formed (private-use subtags), so only its length keeps it from Intl.
    const long = "fr-CA-x-aaaaaaaa-bbbbbbbb-cccccccc-dddd";
    expect(recipientLocale(long, null)).toEqual({ language: "fr", format: "fr", negotiated: true });
    expect(recipientLocale("FR-ca", null)).toEqual({ language: "fr", format: "fr-CA", negotiated: true });
    expect(recipientLocale("fr-ca", null)).toEqual({ language: "fr", format: "fr-CA", negotiated: true });
  });

  test("RECIPIENT_LANGUAGE pins the language whatever the browser asks", () => {
    expect(recipientLocale("fr-FR,fr;q=0.9", "ja")).toEqual({ language: "ja", format: "ja", negotiated: false });
  });
});

describe("formatted the visitor's way", () => {
  test.each([
    ["en", 999, "999 bytes"],
    ["en", 1000, "1.0 kB"],
    ["en", 9_949, "9.9 kB"],
    ["en", 999_600, "1.0 MB"],
    ["en", 12_400_000, "12 MB"],
    ["en", 1_340_000_000, "1.3 GB"],
    ["de", 1_340_000_000, "1,3 GB"],
    ["fr", 12_400_000, "12 Mo"],
    ["fr", 999, "999 octets"],
    ["ja", 999, "999 バイト"],
  ])("in %s, %i bytes read %j", (tag, bytes, words) => {
    expect(plain(formatSize(bytes, locale(tag)))).toBe(words);
  });

  test.each([
    ["en", 4, "4 sec"],
    ["en", 725, "12 min 5 sec"],
    ["en", 720, "12 min"],
    ["en", 3780, "1 hr 3 min"],
    ["de", 725, "12 Min., 5 Sek."],
    ["fr", 725, "12 min 5 s"],
    ["ja", 725, "12 分5 秒"],
  ])("in %s, %i seconds last %j", (tag, seconds, words) => {
    expect(plain(formatDuration(seconds, locale(tag)))).toBe(words);
  });

  test.each([
    ["en", 30_000, "in 30 seconds"],
    ["en", 45 * 60_000, "in 45 minutes"],
    ["fr", 5 * 3_600_000, "dans 5 heures"],
    ["de", 2 * 86_400_000, "in 2 Tagen"],
    ["es", 60_000, "dentro de 1 minuto"],
    ["ja", 2 * 86_400_000, "2 日後"],
  ])("in %s, %i ms from now is %j", (tag, ms, words) => {
    expect(plain(fromNow(ms, locale(tag)))).toBe(words);
  });

  test.each([
    ["en-US", "Jan 2, 2026, 1:05 PM UTC"],
    ["en-GB", "2 Jan 2026, 13:05 UTC"],
    ["de", "2. Jan. 2026, 13:05 UTC"],
    ["fr", "2 janv. 2026, 13:05 UTC"],
    ["es", "2 ene 2026, 13:05 UTC"],
    ["ja", "2026年1月2日 13:05 UTC"],
  ])("in %s, a moment reads %j", (tag, words) => {
    expect(plain(utcDateTime(Date.UTC(2026, 0, 2, 13, 5), locale(tag)))).toBe(words);
  });
});
