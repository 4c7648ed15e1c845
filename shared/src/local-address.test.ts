import { describe, expect, it } from 'vitest';
import { isLocalHost } from './local-address.ts';

describe('isLocalHost', () => {
  it('knows loopback, private, link-local and local names', () => {
    for (const host of ['localhost', 'app.localhost', 'printer.local', 'db.internal', '127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '[::1]', '::1', '[fd12::1]', 'fe80::1', '[::ffff:192.168.0.1]', 'LOCALHOST.']) {
      expect(isLocalHost(host), host).toBe(true);
    }
  });

  it('leaves public names and addresses alone', () => {
    for (const host of ['crashes.example.com', '8.8.8.8', '172.32.0.1', '100.128.0.1', '[2001:db8::1]', 'localhost.example.com', 'fcc.gov']) {
      expect(isLocalHost(host), host).toBe(false);
    }
  });
});
