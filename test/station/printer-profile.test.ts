// The profile's printer: a ZPL label printer on the network (host, port 9100 by default, 203/300/600
// dpi, optional darkness / speed, native or bitmap QR) next to the system printer and PDF; every
// mistake named by its field, and a label the ZPL printer could not print refused at load time.
import { describe, expect, it } from 'vitest';
import { ProfileError, validateProfile } from '../../shared/station/profile.ts';
import { labelSpecForPrinter, parseZplUrl, zplAddress } from '../../shared/station/printer.ts';
import { demoProfile } from '../../src-main/station/profile-file.ts';

const base = () => JSON.parse(JSON.stringify(demoProfile())) as Record<string, any>;
const withPrinter = (printer: unknown, label?: unknown) => ({ ...base(), printer, ...(label ? { label } : {}) });

describe('profile printer', () => {
  it('a ZPL printer: port 9100 unless given, the label laid out on its dot grid', () => {
    const p = validateProfile(withPrinter({ mode: 'zpl', host: ' zebra-3.line.local ', dpi: 300 }));
    expect(p.printer).toEqual({ mode: 'zpl', host: 'zebra-3.line.local', port: 9100, dpi: 300 });
    const full = validateProfile(withPrinter({ mode: 'zpl', host: '192.0.2.10', port: 6101, dpi: 203, darkness: 18, speed: 4, qr: 'bitmap' }));
    expect(full.printer).toEqual({ mode: 'zpl', host: '192.0.2.10', port: 6101, dpi: 203, darkness: 18, speed: 4, qr: 'bitmap' });
    // 203 dpi heads have 8 dots per mm: modules come out in multiples of 0.125 mm
    expect(labelSpecForPrinter(full.label, full.printer).printerDpi).toBeCloseTo(203.2, 9);
    expect(labelSpecForPrinter(full.label, { mode: 'pdf' })).toBe(full.label);
    expect(validateProfile(withPrinter({ mode: 'zpl', host: 'fe80::1', dpi: 600 })).printer).toMatchObject({ host: 'fe80::1' });
  });

  it('system printer and PDF as before (left-over ZPL fields of a mode switch are dropped)', () => {
    expect(validateProfile(withPrinter({ mode: 'print', name: 'Zebra_ZD421' })).printer).toEqual({ mode: 'print', name: 'Zebra_ZD421' });
    expect(validateProfile(withPrinter({ mode: 'pdf', host: '192.0.2.10', dpi: 203 })).printer).toEqual({ mode: 'pdf' });
  });

  it.each([
    ['mode', { mode: 'fax' }, /printer\.mode: must be one of "print", "pdf", "zpl"/],
    ['host missing', { mode: 'zpl', dpi: 203 }, /printer\.host: must be the printer's host name or IP address/],
    ['host with a path', { mode: 'zpl', host: 'zebra/1', dpi: 203 }, /printer\.host/],
    ['port', { mode: 'zpl', host: 'zebra', port: 70000, dpi: 203 }, /printer\.port: must be a whole number from 1 to 65535/],
    ['dpi', { mode: 'zpl', host: 'zebra', dpi: 200 }, /printer\.dpi: must be one of 203, 300, 600/],
    ['darkness', { mode: 'zpl', host: 'zebra', dpi: 203, darkness: 31 }, /printer\.darkness: must be a whole number from 0 to 30/],
    ['speed', { mode: 'zpl', host: 'zebra', dpi: 203, speed: 0 }, /printer\.speed: must be a whole number from 1 to 14/],
    ['qr', { mode: 'zpl', host: 'zebra', dpi: 203, qr: 'vector' }, /printer\.qr: must be "native"/],
    ['typo', { mode: 'zpl', host: 'zebra', dpi: 203, darknes: 20 }, /printer\.darknes: unknown field/],
  ])('refuses a wrong %s, naming the field', (_what, printer, message) => {
    expect(() => validateProfile(withPrinter(printer), 'p.json')).toThrow(ProfileError);
    expect(() => validateProfile(withPrinter(printer), 'p.json')).toThrow(message);
  });

  it('refuses at load time a label this ZPL printer could not print', () => {
    const zpl = { mode: 'zpl', host: 'zebra', dpi: 203 };
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    expect(() => validateProfile(withPrinter(zpl, { size: '50x25', logo: { dataUrl: png, widthMm: 6, heightMm: 4 } }))).toThrow(/label\.logo: a ZPL label printer cannot print the logo/);
    expect(() => validateProfile(withPrinter(zpl, { size: '40x30', textFontMm: 1.1 }))).toThrow(/label: text of 1\.1 mm is below the ZPL printer font's smallest size \(10 dots = 1\.25 mm at 203 dpi\)/);
    expect(() => validateProfile(withPrinter(zpl, { size: '40x30', printerDpi: 300 }))).toThrow(/label\.printerDpi: 300 does not match printer\.dpi 203/);
    // 21 × 20 mm with the default 0.3 mm minimum: fine as a PDF (~0.32 mm modules for the largest
    // payload), but a 203 dpi head snaps them to 2 dots = 0.25 mm.
    const small = { size: { widthMm: 21, heightMm: 20 }, showProductName: true, showMac: true, showUnit: false };
    expect(validateProfile({ ...base(), label: small }).label).toMatchObject({ size: small.size });
    expect(() => validateProfile(withPrinter(zpl, small))).toThrow(/label: qr: modules would be 0\.25 mm, below the 0\.3 mm minimum/);
  });
});

describe('zpl://host:port', () => {
  it.each([
    ['zpl://192.0.2.10', { host: '192.0.2.10', port: 9100 }],
    ['zpl://192.0.2.10:6101', { host: '192.0.2.10', port: 6101 }],
    ['ZPL://zebra-3.line.local:9100/', { host: 'zebra-3.line.local', port: 9100 }],
    ['zpl://[fe80::1]:9100', { host: 'fe80::1', port: 9100 }],
  ])('%s', (url, expected) => {
    expect(parseZplUrl(url)).toEqual(expected);
  });

  it.each(['192.0.2.10:9100', 'tcp://192.0.2.10', 'zpl://', 'zpl://host:0', 'zpl://host:123456', 'zpl://a b'])('refuses %s', (url) => {
    expect(() => parseZplUrl(url)).toThrow(/not a ZPL printer address|the port must be from 1 to 65535/);
  });

  it('prints IPv6 addresses in brackets', () => {
    expect(zplAddress({ host: 'fe80::1', port: 9100 })).toBe('[fe80::1]:9100');
    expect(zplAddress({ host: 'zebra', port: 9100 })).toBe('zebra:9100');
  });
});
