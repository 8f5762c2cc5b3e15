// The networks an address belongs to: the one an IP lock and the rate limits name (an IPv4
// address, an IPv6 /64), and the coarse one audit rows keep and leak checks count (/24, /48).
/**
 * The network an IP lock names: the address itself for IPv4, its /64 for IPv6 (privacy
 * extensions rotate the interface half of an IPv6 address, often within the token's lifetime).
 * `null` when the text is not an IP address.
 */
export const clientNetwork = (ip: string): string | null => networkOf(ip, 32, 64);

/**
 * The coarse network a share link's leak check counts (docs/http-api.md › Share links): an IPv4
 * /24 or an IPv6 /48, roughly one site or one provider's neighbourhood; `null` when the text is
 * not an IP address.
 */
export const coarseNetwork = (ip: string): string | null => networkOf(ip, 24, 48);

/** The address's network of `v4Bits` (a multiple of 8) or `v6Bits` (a multiple of 16), as CIDR. */
function networkOf(ip: string, v4Bits: 24 | 32, v6Bits: 48 | 64): string | null {
  const v4 = (octets: number[]) => `${octets.map((octet, i) => (i < v4Bits / 8 ? octet : 0)).join(".")}/${v4Bits}`;
  if (!ip.includes(":")) {
    const octets = parseIPv4(ip);
    return octets === null ? null : v4(octets);
  }
  const groups = parseIPv6(ip);
  if (groups === null) return null;
  // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 client: its IPv6 network would admit every other one.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return v4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  return `${formatIPv6(groups.map((group, i) => (i < v6Bits / 16 ? group : 0)))}/${v6Bits}`;
}

function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

// RFC 4291 §2.2 text forms: up to eight hex groups, at most one "::", optionally a dotted-quad tail.
function parseIPv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
}

function parseGroups(text: string, mayEndWithIPv4: boolean): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (const [i, part] of parts.entries()) {
    if (mayEndWithIPv4 && i === parts.length - 1 && part.includes(".")) {
      const octets = parseIPv4(part);
      if (octets === null) return null;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** RFC 5952 canonical text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function formatIPv6(groups: number[]): string {
  let best = { start: -1, length: 0 };
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.length < 2) return hex.join(":");
  const head = hex.slice(0, best.start).join(":");
  const tail = hex.slice(best.start + best.length).join(":");
  return `${head}::${tail}`;
}
