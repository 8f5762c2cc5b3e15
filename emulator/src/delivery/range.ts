// Range requests on downloads, RFC 9110 §14. Anything we cannot or choose not to honour falls
// back to the full body, which §14.2 allows ("a server MAY ignore the Range header field").

export type RangeDecision =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const FULL: RangeDecision = { kind: "full" };
const UNSATISFIABLE: RangeDecision = { kind: "unsatisfiable" };

export function decideRange(header: string | null, size: number): RangeDecision {
  const specifier = /^\s*bytes\s*=(.*)$/i.exec(header ?? "");
  if (!specifier) return FULL;
  // §5.6.1.2: empty list elements must be accepted and skipped. More than one range would need
  // a multipart/byteranges body; players and download managers ask for one.
  const ranges = (specifier[1] ?? "").split(",").filter((part) => part.trim() !== "");
  const [only] = ranges;
  if (ranges.length !== 1 || only === undefined) return FULL;
  const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(only);
  const first = spec?.[1] ?? "";
  const last = spec?.[2] ?? "";
  if (first === "" && last === "") return FULL;
  if (first === "") return suffix(Number(last), size);
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  // §14.1.1: last-pos < first-pos makes the range-spec invalid, so the header is ignored.
  if (end < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}

export function contentRange(
  decision: Exclude<RangeDecision, { kind: "full" }>,
  size: number,
): string {
  return decision.kind === "partial"
    ? `bytes ${decision.start}-${decision.end}/${size}`
    : `bytes */${size}`;
}

// "bytes=-n" asks for the last n bytes; -0 and any suffix of an empty body select nothing.
function suffix(length: number, size: number): RangeDecision {
  if (length === 0 || size === 0) return UNSATISFIABLE;
  return { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
}
