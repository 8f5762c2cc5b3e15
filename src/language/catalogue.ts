// The words of the pages a share link's visitor sees, in every language they are offered in: one
// object per language with English's keys, so a missing or extra key is a type error, and a
// phrase with {placeholders} must be given a value for each (docs/http-api.md › Share links).
import { de } from "./de";
import { en, type Catalogue, type Key } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { ja } from "./ja";

export const LANGUAGES = ["en", "de", "fr", "es", "ja"] as const;
export type Language = (typeof LANGUAGES)[number];

export type { Catalogue, Key };

export const isLanguage = (value: string): value is Language => (LANGUAGES as readonly string[]).includes(value);


export const CATALOGUE = { en, de, fr, es, ja } as const satisfies Record<Language, Catalogue>;

/** The names inside a phrase's braces: "{date} ({left})" has "date" and "left". */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;
export type Values<K extends Key> = [Placeholders<(typeof en)[K]>] extends [never] ? [] : [Record<Placeholders<(typeof en)[K]>, string>];

/**
 * A phrase in `language`, each {placeholder} replaced by its value as given and every other part
 * passed through `encode` (a page escapes the words and gives values that are HTML already).
 */
export function phrase<K extends Key>(language: Language, encode: (text: string) => string, key: K, ...values: Values<K>): string {
  const given: Record<string, string> = values[0] ?? {};
  return CATALOGUE[language][key]
    .split(/(\{\w+\})/)
    .map((part) => (/^\{\w+\}$/.test(part) ? (given[part.slice(1, -1)] ?? "") : encode(part)))
    .join("");
}
