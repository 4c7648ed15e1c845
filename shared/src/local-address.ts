/**
 * Whether a URL's host names this machine or a private network by its look: loopback, private,
 * link-local, carrier-grade NAT and unspecified IP addresses (IPv4, IPv6, IPv4-mapped), and the
 * names `localhost`, `*.localhost`, `*.local` (mDNS) and `*.internal`. A public name that
 * resolves to such an address is not seen here (that needs DNS).
 *
 * @example isLocalHost('192.168.1.1') // true
 * @example isLocalHost('crashes.example.com') // false
 */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || /\.(localhost|local|internal)$/.test(host)) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host) ?? /^::ffff:(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (!host.includes(':')) return false;
  // IPv6: unspecified, loopback, unique local (fc00::/7), link-local (fe80::/10).
  if (host === '::' || host === '::1') return true;
  return /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host);
}
