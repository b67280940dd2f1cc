/**
 * TOTP against RFC 6238 Appendix B (every row of its table, SHA-1, SHA-256 and SHA-512, 8 digits),
 * HOTP against RFC 4226 Appendix D, base32 against RFC 4648 section 10, and the verifier's window
 * and shape rules.
 */
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, totp, TotpSecretError, verifyTotp } from '../../services/console/totp.js';

const SEEDS = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};
// RFC 6238 Appendix B: time (s) -> [SHA1, SHA256, SHA512].
const TABLE: readonly [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238 Appendix B)', () => {
  it.each(TABLE)('t=%i', (t, sha1, sha256, sha512) => {
    expect(totp(SEEDS.sha1, t, { digits: 8, algorithm: 'sha1' })).toBe(sha1);
    expect(totp(SEEDS.sha256, t, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(SEEDS.sha512, t, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });
});

describe('HOTP (RFC 4226 Appendix D)', () => {
  it('counters 0 to 9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, c) => hotp(SEEDS.sha1, c))).toEqual(expected);
  });
});

describe('base32 (RFC 4648 section 10)', () => {
  it('decodes and encodes the standard vectors', () => {
    const vectors: [string, string][] = [['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, enc] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(enc);
      expect(base32Decode(`${enc}====`).toString()).toBe(plain);
      expect(base32Decode(enc.toLowerCase()).toString()).toBe(plain);
    }
    expect(base32Encode(SEEDS.sha1)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
  it('refuses what is not base32', () => {
    expect(() => base32Decode('MZXW1')).toThrow(TotpSecretError);
    expect(() => base32Decode('  ')).toThrow(TotpSecretError);
  });
});

describe('verifyTotp', () => {
  const key = SEEDS.sha1;
  it('accepts the current step and one either side, returning the matched step; refuses two away', () => {
    const t = 1111111111; // step 37037037
    expect(verifyTotp(key, totp(key, t), t)).toBe(37037037);
    expect(verifyTotp(key, totp(key, t - 30), t)).toBe(37037036);
    expect(verifyTotp(key, totp(key, t + 30), t)).toBe(37037038);
    expect(verifyTotp(key, totp(key, t - 60), t)).toBeUndefined();
  });
  it('refuses codes of the wrong shape and a wrong code', () => {
    const t = 1234567890;
    const good = totp(key, t);
    expect(verifyTotp(key, ` ${good}`, t)).toBeUndefined();
    expect(verifyTotp(key, good.slice(1), t)).toBeUndefined();
    expect(verifyTotp(key, String((Number(good) + 1) % 1e6).padStart(6, '0'), t)).toBeUndefined();
  });
});
