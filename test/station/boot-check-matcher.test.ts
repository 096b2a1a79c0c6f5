// The boot check's rules on text, without a board: the profile part and its errors, and how the
// matcher decides on what a firmware prints.
import { describe, expect, it } from 'vitest';
import { BootLogMatcher, DEFAULT_FORBIDDEN, resolveBootCheck, validateBootCheck, type BootCheckSettings } from '../../shared/station/boot-check.ts';
import { ProfileError, validateProfile } from '../../shared/station/profile.ts';

const fail = (path: string, detail: string): never => {
  throw new ProfileError(path, detail);
};
const settings = (v: unknown, serialKey?: string): BootCheckSettings => resolveBootCheck(validateBootCheck(v, fail, serialKey), serialKey);
const base = { schema: 1, id: 'x', productName: 'X', category: 7, nvs: { size: '0x6000' }, firmware: { partitionTable: 'p.csv' }, label: { size: '40x30' } };

describe('bootCheck in the profile', () => {
  it('has defaults: 10 s at 115200, the usual crash words forbidden, nothing required', () => {
    expect(settings({})).toEqual({ timeoutSeconds: 10, baud: 115200, require: [], forbid: DEFAULT_FORBIDDEN, settleSeconds: 0 });
    expect(settings({ setupId: true }).setupId).toMatchObject({ flags: 'i' });
  });

  it('is kept as written (a saved profile reads back the same)', () => {
    const bootCheck = { require: ['v1.2', { regex: 'x(\\d)', flags: 'i' }], setupId: true, timeoutSeconds: 5 };
    const once = validateProfile({ ...base, bootCheck });
    expect(once.bootCheck).toEqual(bootCheck);
    expect(validateProfile(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it.each([
    [{ timeout: 5 }, /bootCheck\.timeout: unknown field/],
    [{ timeoutSeconds: 0 }, /bootCheck\.timeoutSeconds: must be a number of seconds from 0\.1 to 120/],
    [{ baud: 123 }, /bootCheck\.baud: must be one of/],
    [{ require: 'x' }, /bootCheck\.require: must be a list/],
    [{ require: ['ok', { regex: '(' }] }, /bootCheck\.require\[1\]\.regex: not a valid regular expression/],
    [{ forbid: [{ regex: 'x', flags: 'g' }] }, /bootCheck\.forbid\[0\]\.flags: must be "i"/],
    [{ setupId: { regex: 'setup_id=[A-Z]{4}' } }, /bootCheck\.setupId\.regex: needs a capture group/],
    [{ serial: true }, /bootCheck\.serial: needs a serial number scheme/],
  ])('refuses %j naming the field', (bootCheck, message) => {
    expect(() => validateProfile({ ...base, bootCheck })).toThrow(message);
  });
});

describe('the matcher', () => {
  const expected = { setupId: 'ES32', serial: 'FAN-000007', setupCode: '111-22-333' };

  it('passes once every required line and the right setup ID and serial were printed (colour codes ignored)', () => {
    const m = new BootLogMatcher(settings({ require: ['app_main: v1', { regex: 'wifi: (started|ready)' }], setupId: true, serial: true }, 'sn'), expected);
    m.push('\x1b[0;32mI (30) app_main: v1 starting\x1b[0m\r\nI (40) wifi: rea');
    expect(m.complete).toBe(false);
    m.push('dy\r\nI (41) hk: setup_id: ES32\r\nI (42) hk: sn = FAN-000007\r\n');
    expect(m.complete).toBe(true);
    expect(m.finish()).toEqual({ ok: true });
  });

  it('fails at once on a forbidden line, quoting it', () => {
    const m = new BootLogMatcher(settings({ require: ['never'] }), expected);
    m.push('E (100) boot: something\nBrownout detector was triggered\n\nets Jul 29 2019 12:21:46\n');
    expect(m.failed).toMatchObject({ code: 'boot-crash', line: 'Brownout detector was triggered' });
    expect(m.failed!.message).toBe('Boot check: the firmware printed "Brownout detector was triggered" (forbidden: "Brownout detector was triggered").');
  });

  it('fails on another setup ID or serial number than the unit was given', () => {
    const a = new BootLogMatcher(settings({ setupId: true }), expected);
    a.push('setup_id=AB12\n');
    expect(a.failed).toMatchObject({ code: 'boot-mismatch' });
    const b = new BootLogMatcher(settings({ serial: true }, 'serial'), expected);
    b.push('I (1) dev: serial number: FAN-000008\n');
    expect(b.failed?.message).toContain('reports serial number FAN-000008, but this unit was given FAN-000007');
  });

  it('when the time is up: names the first missing line, or says nothing came after the ROM, or nothing at all', () => {
    const missing = new BootLogMatcher(settings({ require: ['one', 'two'], timeoutSeconds: 3 }), expected);
    missing.push('one\nthree');
    expect(missing.finish()).toEqual({ ok: false, code: 'boot-missing', message: 'Boot check: the firmware did not print the line "two" within 3 s. Last line: "three".' });
    const rom = new BootLogMatcher(settings({ require: ['one'] }), expected);
    rom.push('ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n');
    expect(rom.finish()).toMatchObject({ code: 'boot-silent', message: expect.stringContaining('only the chip\'s ROM did') });
    expect(new BootLogMatcher(settings({ require: ['one'] }), expected).finish()).toMatchObject({ code: 'boot-silent' });
    // only forbidden lines watched: the time running out is a pass
    const watch = new BootLogMatcher(settings({}), expected);
    watch.push('I (1) app: hello\n');
    expect(watch.watchOnly).toBe(true);
    expect(watch.finish()).toEqual({ ok: true });
  });

  it('never keeps the setup code: removed from the log and from the quoted line', () => {
    const m = new BootLogMatcher(settings({ forbid: ['debug'] }), expected);
    m.push('I (1) x: code 11122333 and 111-22-333\nW (2) debug: 11122333\n');
    expect(m.log).not.toMatch(/11122333|111-22-333/);
    expect(m.log).toContain('[setup code]');
    expect(m.failed!.message).not.toContain('11122333');
  });
});
