import { describe, expect, it } from 'vitest';
import { REMOTE_FETCH_DEFAULTS, RemoteFetcher, refusedAddress } from './remote.ts';

describe('source fetching refuses addresses inside', () => {
  it('in every IPv4 and IPv6 spelling the forwarder refuses', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:7f00:1', '::7f00:1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', 'fec0::1', 'fd00::1', '169.254.169.254', '0.0.0.0', 'not an address']) {
      expect(refusedAddress(address, false), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) expect(refusedAddress(address, false), address).toBe(false);
  });

  it('and a cloud metadata address even where private addresses are allowed', async () => {
    const fetcher = new RemoteFetcher({ ...REMOTE_FETCH_DEFAULTS, allowedOrigins: ['*'], allowPrivate: true });
    await expect(fetcher.fetchText('http://169.254.169.254/latest/meta-data/app.js.map')).rejects.toMatchObject({ code: 'private_address' });
    await expect(fetcher.fetchText('http://[::7f00:1]:9/b.js')).rejects.not.toMatchObject({ code: 'private_address' });
  });
});
