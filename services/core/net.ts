/**
 * Network addresses as a socket reports them (`socket.remoteAddress`), for the loopback checks of
 * the servers that keep an API to the machine they run on: the simulator's admin API and the
 * runtime's `/exchange/*` endpoints. Pure string work, no DNS.
 */

/**
 * Whether an address is on the loopback interface: IPv4 127.0.0.0/8, IPv6 `::1` in any spelling
 * (`0:0:0:0:0:0:0:1`, `0::1`, leading zeros, a zone id, brackets), and the IPv4-mapped form of a
 * 127/8 address (`::ffff:127.x.x.x`, also written in hex, `::ffff:7f00:1`), which is how a
 * dual-stack listener reports an IPv4 client.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (!a.includes(':')) return ipv4Bytes(a)?.[0] === 127;
  const w = ipv6Words(a);
  if (!w) return false;
  const zeros = (n: number): boolean => w.slice(0, n).every((x) => x === 0);
  if (zeros(7) && w[7] === 1) return true;
  return zeros(5) && w[5] === 0xffff && (w[6] as number) >> 8 === 127;
}

/** The four bytes of a dotted IPv4 address, undefined when it is not one. */
function ipv4Bytes(a: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** The eight 16-bit words of an IPv6 address (`::` expanded, a dotted IPv4 tail as two words), undefined when it is not one. */
function ipv6Words(a: string): number[] | undefined {
  const lastColon = a.lastIndexOf(':');
  const tail = a.slice(lastColon + 1);
  let s = a;
  if (tail.includes('.')) {
    const b = ipv4Bytes(tail);
    if (!b) return undefined;
    s = `${a.slice(0, lastColon + 1)}${(((b[0] as number) << 8) | (b[1] as number)).toString(16)}:${(((b[2] as number) << 8) | (b[3] as number)).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(h)) return undefined;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  const left = parse(halves[0] as string);
  if (!left) return undefined;
  if (halves.length === 1) return left.length === 8 ? left : undefined;
  const right = parse(halves[1] as string);
  if (!right || left.length + right.length > 7) return undefined;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
