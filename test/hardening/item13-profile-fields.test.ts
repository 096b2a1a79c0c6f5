// Issue 13, item 13: every field of a profile is checked: unknown or mistyped fields anywhere
// (inside label, nvs, firmware … as well as at the top) are refused with the field path, and the
// PIN lock must be a real scrypt hash (a malformed one would lock the profile forever).
import { describe, expect, it } from 'vitest';
import { demoProfile } from '../../src-main/station/profile-file.ts';
import { validateProfile } from '../../shared/station/profile.ts';

const base = () => JSON.parse(JSON.stringify(demoProfile())) as Record<string, Record<string, unknown>>;
const refused = (change: (p: Record<string, Record<string, unknown>>) => void) => {
  const p = base();
  change(p);
  return () => validateProfile(p, 'p.json');
};

describe('item 13: profile fields', () => {
  it('item 13: mistyped and unknown fields inside objects are refused with their path; pinHash must be scrypt', () => {
    expect(refused((p) => (p.label!.showMac = 'yes'))).toThrow(/p\.json: label\.showMac: must be true or false/);
    expect(refused((p) => (p.label!.showMAC = true))).toThrow(/p\.json: label\.showMAC: unknown field/);
    expect(refused((p) => (p.label!.marginMm = '1'))).toThrow(/label\.marginMm: must be a number/);
    expect(refused((p) => (p.label!.codeStyle = 'big'))).toThrow(/label\.codeStyle: must be one of/);
    expect(refused((p) => (p.label!.size = { widthMm: 40, heightMm: 30, depthMm: 1 }))).toThrow(/label\.size\.depthMm: unknown field/);
    expect(refused((p) => (p.nvs!.sizee = 1))).toThrow(/nvs\.sizee: unknown field/);
    expect(refused((p) => (p.firmware!.flasher_args = 'x'))).toThrow(/firmware\.flasher_args: unknown field/);
    expect(refused((p) => (p.printer!.copies = 2))).toThrow(/printer\.copies: unknown field/);
    expect(refused((p) => (p.encryption = { keysFile: 'k.bin', hmac: true }))).toThrow(/encryption\.hmac: unknown field/);
    expect(refused((p) => (p.customData = { csv: 'a.csv', extra: 1 }))).toThrow(/customData\.extra: unknown field/);
    expect(refused((p) => (p.lock = { pinHash: 'x' }))).toThrow(/lock\.pinHash: .*scrypt/);
    expect(refused((p) => (p.lock = { pinHash: `scrypt$16384$${'00'.repeat(16)}$${'11'.repeat(32)}`, note: 1 }))).toThrow(/lock\.note: unknown field/);
    expect(refused((p) => (p.lock = { pinHash: `scrypt$1099511627776$${'00'.repeat(16)}$${'11'.repeat(32)}` }))).toThrow(/lock\.pinHash/);
    expect(() => validateProfile({ ...base(), lock: { pinHash: `scrypt$16384$${'00'.repeat(16)}$${'11'.repeat(32)}` } }, 'p.json')).not.toThrow();
  });
});
