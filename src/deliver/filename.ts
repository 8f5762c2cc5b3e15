// The name a download is saved under (docs/http-api.md). The input is a user-supplied `filename` or a
// video's `meta.name`, both untrusted: the output must neither break the header it lands in nor
// steer where the browser writes the file. Never rejects: a name that sanitises to nothing
// becomes the video's UID. Nor throws: a lone UTF-16 surrogate (which `encodeURIComponent`
// refuses) first becomes U+FFFD.

/** Letters NFKD leaves whole because they are not a base letter plus a mark. */
const LATIN_LETTERS: Record<string, string> = {
  ß: "ss", ẞ: "SS", æ: "ae", Æ: "AE", œ: "oe", Œ: "OE", ø: "o", Ø: "O", đ: "d", Đ: "D",
  ð: "d", Ð: "D", þ: "th", Þ: "Th", ł: "l", Ł: "L", ħ: "h", Ħ: "H", ı: "i", ŋ: "n", Ŋ: "N",
  ĸ: "q", ſ: "s",
};

// Typographic quotes and apostrophes vanish inside words ("Don't" → "Dont") instead of splitting them.
const APOSTROPHES = /['‘’ʼ`´]/g;

/** Best-effort basic Latin: accents dropped, ligatures and special letters spelled out. */
function toBasicLatin(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\x00-\x7f]/g, (char) => LATIN_LETTERS[char] ?? char);
}

/**
 * Redirect mode: Stream's `?filename=`, at most 120 characters of `[A-Za-z0-9_-]` with the
 * extension appended by Stream (docs/stream-behaviour.md §1). Anything outside that alphabet would make
 * Stream refuse the whole download, so the name is reduced, never passed through.
 */
export function streamFilenameParam(name: string | null, uid: string): string {
  const reduced = toBasicLatin((name ?? "").toWellFormed().trim().replace(/\.(mp4|m4a)$/i, ""))
    .replace(APOSTROPHES, "")
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    // Runs of separators collapse to one; a hyphen wins over underscores ("Part 1 - Intro" → "Part_1-Intro").
    .replace(/[_-]{2,}/g, (run) => (run.includes("-") ? "-" : "_"))
    .slice(0, 120)
    .replace(/^[_-]+|[_-]+$/g, "");
  return reduced === "" ? uid : reduced;
}

/** UTF-8 bytes of the name part; the 200-byte cap of docs/http-api.md keeps well inside every file system's 255. */
const MAX_NAME_BYTES = 200;

// Extensions a user may have typed: a dot elsewhere ("v1.5", "Dr.Who") is part of the title.
const TYPED_EXTENSION = /\.(mp4|m4a|m4v|mov|mkv|webm|avi|wmv|flv|mpe?g|3gp|ogv|ogg|oga|mp3|aac|wav|flac|opus)$/i;

/**
 * Stream mode: the header the gateway sends itself, `filename` as an ASCII fallback and
 * `filename*` (RFC 8187) with the real name (RFC 6266 §4.3: recipients prefer `filename*`).
 */
export function contentDisposition(name: string | null, uid: string, extension: "mp4" | "m4a"): string {
  const base = sanitise((name ?? "").toWellFormed()) || uid;
  const fallback = asciiFallback(base) || uid;
  return `attachment; filename="${fallback}.${extension}"; filename*=UTF-8''${encodeRfc8187(`${base}.${extension}`)}`;
}

/**
 * The sanitised name (at most 200 bytes), or null when nothing is left: what a stream-mode grant's
 * ticket carries, so that a 64 KB `filename` never becomes a 64 KB URL.
 */
export function savedName(name: string | null): string | null {
  return sanitise((name ?? "").toWellFormed()) || null;
}

function sanitise(name: string): string {
  const cleaned = name
    .normalize("NFC")
    // Controls (CR/LF/NUL would split the header) and invisible format characters such as the
    // right-to-left override, which makes a download bar show a name in a misleading order.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, "")
    // Path separators and the characters Windows refuses in file names.
    .replace(/[/\\<>:|?*]/g, "_")
    // Quotes and semicolons would end the quoted-string or the parameter early.
    .replace(/[";]/g, "")
    .replace(/\s+/g, " ");
  // The extension goes first so that a bare ".mp4" leaves nothing rather than "mp4".
  const withoutExtension = cleaned.replace(/[\s.]+$/, "").replace(TYPED_EXTENSION, "");
  return trimEnds(truncateUtf8(withoutExtension, MAX_NAME_BYTES));
}

// Leading dots hide a file on Unix ("../x" would also read as a path); trailing dots and spaces
// are dropped by Windows. Underscores left over from separators at the ends carry no meaning.
function trimEnds(name: string): string {
  return name.replace(/^[\s._]+|[\s._]+$/g, "");
}

const utf8 = new TextEncoder();

/** At most `maxBytes` of UTF-8, cut between code points (never inside one). */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8.encode(char).length;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Printable ASCII for clients that ignore `filename*`; empty when no letter or digit survives. */
function asciiFallback(name: string): string {
  const ascii = toBasicLatin(name)
    .replace(/[‘’ʼ]/g, "'")
    // `%` because some clients percent-decode `filename`; `\` is the quoted-string escape.
    .replace(/[^\x20-\x7e]|[%\\]/g, "_")
    .replace(/_{2,}/g, "_")
    .slice(0, MAX_NAME_BYTES);
  return /[A-Za-z0-9]/.test(ascii) ? trimEnds(ascii) : "";
}

/** RFC 8187 value-chars: encodeURIComponent leaves `'()*` bare, which attr-char does not allow. */
function encodeRfc8187(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
