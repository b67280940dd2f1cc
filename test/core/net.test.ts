/** Loopback addresses as sockets report them (services/core/net.ts). */
import { describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../services/core/net.js';

describe('isLoopbackAddress', () => {
  it('accepts all of 127.0.0.0/8, ::1 in any spelling, and ::ffff:127.x.x.x', () => {
    for (const a of [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      '127.8.9.10',
      '::1',
      '0:0:0:0:0:0:0:1',
      '0000:0000:0000:0000:0000:0000:0000:0001',
      '0::1',
      '::0:1',
      '0:0::0:1',
      '[::1]',
      '::1%lo0',
      '::FFFF:127.0.0.1',
      '::ffff:127.1.2.3',
      '0:0:0:0:0:ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:7fab:cdef',
    ])
      expect(isLoopbackAddress(a), a).toBe(true);
  });

  it('refuses every other address, and what is not an address', () => {
    for (const a of [
      '10.0.0.5',
      '192.168.1.2',
      '128.0.0.1',
      '126.255.255.255',
      '0.0.0.0',
      '127.0.0',
      '127.0.0.256',
      '1.127.0.0',
      '::',
      '::2',
      '1::1',
      '::1:0',
      'fe80::1',
      '::ffff:192.168.1.2',
      '::ffff:8000:1',
      '::fffe:127.0.0.1',
      '::127.0.0.1',
      '1:0:0:0:0:ffff:127.0.0.1',
      ':::1',
      '::1::',
      '0:0:0:0:0:0:0:0:1',
      '::00001',
      'localhost',
      '',
      undefined,
    ])
      expect(isLoopbackAddress(a), String(a)).toBe(false);
  });
});
