import { UserError } from './errors.ts';

/**
 * Where the server may open an outbound connection (webhook deliveries are the only ones): pure
 * functions over IP addresses and CIDR ranges. By default only globally reachable unicast
 * addresses are allowed; the operator lets ranges through with TESSERA_WEBHOOK_ALLOW.
 *
 * Refused, for IPv4 (IANA special-purpose ranges that are not globally reachable):
 *   0.0.0.0/8 unspecified, 10/8 172.16/12 192.168/16 private, 100.64/10 CGNAT, 127/8 loopback,
 *   169.254/16 link-local (cloud metadata), 192.0.0/24 IETF, 192.0.2/24 198.51.100/24
 *   203.0.113/24 documentation, 198.18/15 benchmarking, 224/4 multicast, 240/4 reserved and
 *   255.255.255.255 broadcast.
 * For IPv6: everything outside global unicast 2000::/3 (::, ::1, ::/96 IPv4-compatible,
 *   fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast,
 *   100::/64 discard, 64:ff9b:1::/48 local NAT64, …) and, inside it, 2001::/23 (IETF: Teredo,
 *   benchmarking, ORCHID), 2001:db8::/32 and 3fff::/20 (documentation).
 * Addresses that carry an IPv4 address are judged by it: IPv4-mapped ::ffff:a.b.c.d is the IPv4
 *   address itself (a socket to it reaches a.b.c.d); NAT64 64:ff9b::/96 and 6to4 2002::/16 are
 *   refused when the embedded IPv4 address is, allowed when it is public.
 * IPv4 spellings (decimal 2130706433, octal 0177.0.0.1, hex 0x7f.1, short 127.1) parse as
 * inet_aton and the URL standard read them, so they cannot slip past as "names".
 */

export interface Ip {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr extends Ip {
  prefix: number;
  /** As written, for messages. */
  text: string;
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** Resolves a host name to every address it has (dns.lookup with `all`; injectable for tests). */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string }>>;

export interface EgressPolicy {
  /** Ranges the operator allows although they are not public (TESSERA_WEBHOOK_ALLOW). */
  allow: readonly Cidr[];
  /** Resolves names; without one, a host name is not checked (an IP literal still is). */
  resolve?: Resolver;
}

/** The connection was refused by the policy, or its host name did not resolve. */
export class DestinationRefused extends UserError {
  constructor(
    readonly host: string,
    /** For the operator's log; not shown to whoever configured the webhook when `host` is a name. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'DestinationRefused';
  }
}

function ipv4Number(part: string): number | null {
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(part)) {
    digits = part.slice(2);
    radix = 16;
    if (digits === '') return 0;
  } else if (part.length > 1 && part.startsWith('0')) {
    digits = part.slice(1);
    radix = 8;
  }
  const ok = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!ok.test(digits) || digits.length > 12) return null;
  return parseInt(digits, radix);
}

/**
 * IPv4 in any spelling inet_aton and the URL standard accept: 1 to 4 parts, each decimal, octal
 * (leading 0) or hex (0x), the last part filling the remaining bytes; a trailing dot is ignored.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === '')) return null;
  const nums = parts.map(ipv4Number);
  if (nums.some((n) => n === null)) return null;
  const n = nums as number[];
  const last = n[n.length - 1];
  if (n.slice(0, -1).some((x) => x > 255) || last >= 256 ** (5 - n.length)) return null;
  let value = last;
  for (let i = 0; i < n.length - 1; i++) value += n[i] * 256 ** (3 - i);
  return new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
}

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Dotted-decimal only, no leading zeros: for settings, where `010` would be ambiguous. */
function parseDottedQuad(text: string): Uint8Array | null {
  return DOTTED.test(text) ? new Uint8Array(text.split('.').map(Number)) : null;
}

/** IPv6 text (RFC 4291: `::`, an embedded dotted IPv4 tail; brackets and a %zone are dropped). */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return null;
  const cut = s.lastIndexOf(':');
  const tail = s.slice(cut + 1);
  if (tail.includes('.')) {
    const v4 = parseDottedQuad(tail);
    if (!v4) return null;
    s = `${s.slice(0, cut + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.flat().some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  const count = groups.flat().length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const words = halves.length === 1 ? groups[0] : [...groups[0], ...Array<string>(8 - count).fill('0'), ...groups[1]];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = parseInt(w, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 255;
  });
  return bytes;
}

/** An IP address in any accepted spelling, or null for anything else (a host name). */
export function parseIp(text: string): Ip | null {
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes && { family: 6, bytes };
  }
  const bytes = parseIPv4(text);
  return bytes && { family: 4, bytes };
}

/** ::ffff:a.b.c.d is a.b.c.d: a socket to the IPv4-mapped address reaches the IPv4 host. */
export function canonicalIp(ip: Ip): Ip {
  if (ip.family === 6 && ip.bytes.subarray(0, 10).every((b) => b === 0) && ip.bytes[10] === 255 && ip.bytes[11] === 255) {
    return { family: 4, bytes: ip.bytes.slice(12) };
  }
  return ip;
}

function cidr(text: string): Cidr {
  const [addr, bits] = text.split('/');
  const ip = parseIp(addr)!;
  return { ...ip, prefix: Number(bits), text };
}

export function inCidr(range: Cidr, ip: Ip): boolean {
  if (range.family !== ip.family) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (range.bytes[i] !== ip.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (range.bytes[whole] & mask) === (ip.bytes[whole] & mask);
}

const V4_REFUSED: Array<[Cidr, string]> = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
].map(([c, why]) => [cidr(c), why]);

const V6_REFUSED: Array<[Cidr, string]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'IETF protocol assignments'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
].map(([c, why]) => [cidr(c), why]);

const NAT64 = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');
const GLOBAL_UNICAST = cidr('2000::/3');

/** Why `ip` is not a public destination (e.g. "loopback 127.0.0.0/8"), or null when it is one. */
export function refusedRange(ip: Ip): string | null {
  const a = canonicalIp(ip);
  const table = a.family === 4 ? V4_REFUSED : V6_REFUSED;
  const hit = table.find(([range]) => inCidr(range, a));
  if (hit) return `${hit[1]} ${hit[0].text}`;
  if (a.family === 4) return null;
  const embedded = (range: Cidr, at: number) => {
    const why = refusedRange({ family: 4, bytes: a.bytes.slice(at, at + 4) });
    return why && `${range.text} embedding ${why}`;
  };
  if (inCidr(NAT64, a)) return embedded(NAT64, 12);
  if (inCidr(SIX_TO_FOUR, a)) return embedded(SIX_TO_FOUR, 2);
  if (!inCidr(GLOBAL_UNICAST, a)) return `not global unicast (outside ${GLOBAL_UNICAST.text})`;
  return null;
}

/** Allowed when the operator allows its range, else when it is public. */
export function judgeIp(ip: Ip, allow: readonly Cidr[]): Verdict {
  const a = canonicalIp(ip);
  if (allow.some((range) => inCidr(range, a))) return { allowed: true };
  const reason = refusedRange(a);
  return reason ? { allowed: false, reason } : { allowed: true };
}

function hostBitsZero(bytes: Uint8Array, prefix: number): boolean {
  return bytes.every((b, i) => {
    const kept = Math.min(8, Math.max(0, prefix - 8 * i));
    return (b & (0xff >> kept)) === 0;
  });
}

/**
 * The operator's allow-list: CIDR ranges (or single addresses) separated by commas or spaces,
 * dotted-decimal IPv4 or IPv6. A bad entry is an error naming `source` and the entry.
 */
export function parseAllowList(spec: string | readonly string[], source = 'TESSERA_WEBHOOK_ALLOW'): Cidr[] {
  const entries = (typeof spec === 'string' ? [spec] : spec).flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== '');
  return entries.map((entry) => {
    const [addr, bits, extra] = entry.split('/');
    const bytes = addr.includes(':') ? parseIPv6(addr) : parseDottedQuad(addr);
    const max = addr.includes(':') ? 128 : 32;
    const expected = 'expected an IPv4 or IPv6 range such as 10.0.0.0/8, fd00::/8 or 192.168.1.20';
    if (!bytes || addr.startsWith('[')) throw new UserError(`${source}: "${entry}" is not an address range (${expected})`);
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (extra !== undefined || !(prefix >= 0 && prefix <= max)) throw new UserError(`${source}: "${entry}" has a bad prefix length (expected /0 to /${max})`);
    const range: Cidr = { family: max === 32 ? 4 : 6, bytes, prefix, text: entry };
    // 10.0.0.1/8 is more likely a typo than a way to write 10.0.0.0/8: say so rather than guess.
    if (!hostBitsZero(bytes, prefix)) {
      throw new UserError(`${source}: "${entry}" has bits set after the /${prefix} prefix (did you mean the network address?)`);
    }
    return range;
  });
}

/** The host of a URL without brackets and without a trailing dot. */
export function hostOf(u: URL): string {
  const h = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

const ALLOW_HINT = 'the server operator can allow a range with TESSERA_WEBHOOK_ALLOW';

/**
 * The addresses a connection to `host` may use, every one judged: an IP literal is judged as
 * written; a name is resolved and refused when it does not resolve or when any of its addresses
 * is refused (so a name cannot mix a public address with an internal one). A connection may use
 * these addresses only.
 * Without a resolver, a name returns [] (unchecked). Refusal of a name does not say which
 * range it hit, nor whether it resolved, so it cannot map internal names.
 */
export async function checkedAddresses(host: string, policy: EgressPolicy): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const literal = parseIp(host);
  if (literal) {
    const v = judgeIp(literal, policy.allow);
    if (!v.allowed) throw new DestinationRefused(host, v.reason, `url: ${host} is not an allowed webhook destination: ${v.reason} (${ALLOW_HINT})`);
    return [{ address: literal.family === 4 ? literal.bytes.join('.') : host, family: literal.family }];
  }
  if (!policy.resolve) return [];
  const refuse = (reason: string) => new DestinationRefused(host, reason, `url: "${host}" does not resolve to allowed webhook destinations only (${ALLOW_HINT})`);
  let found: ReadonlyArray<{ address: string }>;
  try {
    found = await policy.resolve(host);
  } catch (e) {
    throw refuse(`does not resolve: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (found.length === 0) throw refuse('resolves to no address');
  const ips: Array<{ address: string; family: 4 | 6 }> = [];
  for (const { address } of found) {
    const ip = parseIp(address);
    if (!ip) throw refuse(`resolved to "${address}", not an IP address`);
    const v = judgeIp(ip, policy.allow);
    if (!v.allowed) throw refuse(`resolves to ${address}: ${v.reason}`);
    ips.push({ address, family: ip.family });
  }
  return ips;
}

/** http(s) only, and no credentials in the URL (deliveries are signed instead). */
export function checkWebhookUrlShape(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`url: "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`url: expected http:// or https://, got ${u.protocol}`);
  if (u.username || u.password) throw new UserError('url: credentials in the URL are not allowed (the payload is signed instead)');
  return u;
}
