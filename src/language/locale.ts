// Which language a visitor's page is in, and how it writes dates, sizes and lengths. The words
// come from the catalogue; the numbers from Intl, in the visitor's own regional variant where
// Accept-Language names one of that language (en-GB writes 2 Jan, en-US Jan 2).
import { isLanguage, type Language } from "./catalogue";

export interface Locale {
  /** The catalogue's language: the page's words and `<html lang>`. */
  language: Language;
  /** The BCP 47 tag Intl formats with: the visitor's own (`fr-CA`) when it is of `language`. */
  format: string;
  /** Chosen from Accept-Language (the page then varies with it), not pinned by RECIPIENT_LANGUAGE. */
  negotiated: boolean;
}

/** Pages fall back to English, the catalogue's reference. */
const FALLBACK: Language = "en";

/**
 * RFC 9110 §12.5.4: the visitor's ranges by weight (ties in their order, q=0 meaning "not this"),
 * each matched on its primary subtag; `*` and languages not offered fall through to English.
 */
export function recipientLocale(acceptLanguage: string | null, pinned: Language | null): Locale {
  if (pinned !== null) return { language: pinned, format: pinned, negotiated: false };
  const ranges = (acceptLanguage ?? "")
    .split(",")
    .map((range, order) => {
      const [tag = "", ...parameters] = range.split(";").map((part) => part.trim());
      const q = parameters.find((parameter) => /^q=/i.test(parameter));
      return { tag, weight: q === undefined ? 1 : Number(q.slice(2)), order };
    })
    .filter(({ tag, weight }) => tag !== "" && weight > 0 && weight <= 1)
    .sort((a, b) => b.weight - a.weight || a.order - b.order);
  for (const { tag } of ranges) {
    const language = tag.split("-")[0]?.toLowerCase() ?? "";
    if (isLanguage(language)) return { language, format: regional(tag, language), negotiated: true };
  }
  return { language: FALLBACK, format: FALLBACK, negotiated: true };
}

/**
 * Intl's answers are slow to build and never change: one per tag and options per isolate. Tags come
 * from Accept-Language, so the isolate keeps at most FORMATS_KEPT and starts over past them.
 */
const FORMATS = new Map<string, unknown>();
const FORMATS_KEPT = 512;

function once<T>(key: string, build: () => T): T {
  if (FORMATS.has(key)) return FORMATS.get(key) as T;
  if (FORMATS.size >= FORMATS_KEPT) FORMATS.clear();
  const built = build();
  FORMATS.set(key, built);
  return built;
}

/** RFC 5646 §4.4.1: 35 characters hold every tag a language, script and region make. */
const TAG_MAX = 35;

/** The visitor's tag as Intl knows it, or the bare language when Intl cannot use it (or it is longer than any such tag). */
function regional(tag: string, language: Language): string {
  if (tag.length > TAG_MAX) return language;
  return once(`regional|${tag.toLowerCase()}|${language}`, () => {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      return canonical !== undefined && Intl.DateTimeFormat.supportedLocalesOf(canonical).length > 0 ? canonical : language;
    } catch {
      return language;
    }
  });
}

/** Date and time to the minute; the page's script writes the same in the reader's own time zone. */
export const DATE_TIME: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };

/** In UTC, saying so, for readers without the script (or before it runs). */
export function utcDateTime(ms: number, locale: Locale): string {
  return once(`utc|${locale.format}`, () => new Intl.DateTimeFormat(locale.format, { ...DATE_TIME, timeZone: "UTC", timeZoneName: "short" })).format(ms);
}

/** "in 45 minutes", "dans 5 heures", "2 日後": a time `ms` from now, as a person says it. */
export function fromNow(ms: number, locale: Locale): string {
  const relative = once(`relative|${locale.format}`, () => new Intl.RelativeTimeFormat(locale.format, { numeric: "always" }));
  if (ms < 60_000) return relative.format(Math.max(1, Math.round(ms / 1000)), "second");
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}

const unit = (locale: Locale, name: string, display: "short" | "long", digits = 0) =>
  once(`unit|${locale.format}|${name}|${display}|${digits}`, () =>
    new Intl.NumberFormat(locale.format, { style: "unit", unit: name, unitDisplay: display, minimumFractionDigits: digits, maximumFractionDigits: digits }),
  );

/** "1,000", "1 000": a count as the reader writes it. */
export const formatCount = (count: number, locale: Locale): string => once(`count|${locale.format}`, () => new Intl.NumberFormat(locale.format)).format(count);

/** "4 sec", "12 min 5 sec", "1 Std., 3 Min.": the two largest parts that are not zero. */
export function formatDuration(seconds: number, locale: Locale): string {
  const s = Math.round(seconds);
  const parts: Array<[number, string]> = s < 60 ? [[s, "second"]] : s < 3600 ? [[Math.floor(s / 60), "minute"], [s % 60, "second"]] : [[Math.floor(s / 3600), "hour"], [Math.floor(s / 60) % 60, "minute"]];
  const shown = parts.filter(([value], index) => index === 0 || value > 0).map(([value, name]) => unit(locale, name, "short").format(value));
  return once(`list|${locale.format}`, () => new Intl.ListFormat(locale.format, { type: "unit", style: "narrow" })).format(shown);
}

const SIZE_UNITS = ["kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

/** "850 kB", "12,4 Mo", "1.3 GB": decimal units, as operating systems' file browsers mostly show them. */
export function formatSize(bytes: number, locale: Locale): string {
  let value = bytes;
  let step = -1;
  while (value >= 999.5 && step < SIZE_UNITS.length - 1) {
    value /= 1000;
    step += 1;
  }
  const name = SIZE_UNITS[step];
  // "999 byte" reads wrong in English; bytes are written out, the larger units abbreviated.
  if (name === undefined) return unit(locale, "byte", "long").format(bytes);
  return unit(locale, name, "short", value < 10 ? 1 : 0).format(value);
}
