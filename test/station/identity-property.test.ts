// Property (issue 13): whatever the product profile and its custom NVS data, what the device ends up
// with is exactly the identity the database holds for its MAC, and the label's QR decodes to a
// payload of that same identity. Random profiles (category, flags, product data, NVS size /
// version / layout, encryption, chip, verification) and random custom CSVs (namespaces, every
// encoding, extra hap_setup keys) are provisioned on virtual chips; the NVS is read back from the
// flashed chip (decrypted with the profile's keys when encrypted) by the inspector. Custom data
// that would collide with the identity must be refused before anything is reserved.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeysPartition, generateNvsKeys } from '../../shared/nvs/keys.ts';
import { decryptNvsImage } from '../../shared/nvs/encryption.ts';
import { findBlob, readNvsImage } from '../../shared/nvs/reader.ts';
import { parseSetupPayload } from '../../shared/homekit/payload.ts';
import { computeVerifier } from '../../shared/homekit/srp.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { createDemoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { Station } from '../../src-main/station/station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { decodeQr, rasterisePdf } from '../label/raster.ts';
import { FACTORY_NVS, randomMac } from './helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);

/** One custom data row (key set later): encoding and a value valid for it. */
const value = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((v) => ['u8', String(v)] as const),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => ['i32', String(v)] as const),
  fc.bigInt(0n, 2n ** 64n - 1n).map((v) => ['u64', String(v)] as const),
  fc.stringMatching(/^[A-Za-z0-9 .:-]{0,24}$/).map((v) => ['string', v] as const),
  fc.uint8Array({ maxLength: 24 }).map((v) => ['hex2bin', hex(v)] as const),
  fc.uint8Array({ maxLength: 24 }).map((v) => ['base64', Buffer.from(v).toString('base64')] as const),
  fc.stringMatching(/^[A-Za-z0-9]{0,16}$/).map((v) => ['binary', v] as const),
);

const rows = fc.uniqueArray(fc.tuple(key, value), { maxLength: 4, selector: ([k]) => k });

const customData = fc.record({
  namespaces: fc.uniqueArray(fc.tuple(key.filter((n) => n !== 'hap_setup'), rows), { maxLength: 3, selector: ([n]) => n }),
  /** Extra keys in hap_setup (declared last), never the identity keys… */
  hapSetup: fc.option(fc.uniqueArray(fc.tuple(key.filter((k) => !/^setup_/.test(k)), value), { maxLength: 2, selector: ([k]) => k }), { nil: undefined }),
  /** …except in the samples that try to override the identity (must be refused). */
  collision: fc.option(fc.constantFrom('setup_id', 'setup_salt', 'setup_verifier', 'setup_code'), { freq: 6, nil: undefined }),
});

const profile = fc.record({
  category: fc.integer({ min: 1, max: 40 }),
  flags: fc.record({ ip: fc.boolean(), ble: fc.boolean(), wac: fc.boolean() }).filter((f) => f.ip || f.ble),
  productData: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }).map(hex), { nil: undefined }),
  nvs: fc.record({ size: fc.constantFrom(0x3000, 0x4000, 0x6000), version: fc.constantFrom(1, 2), layout: fc.constantFrom('upstream', 'homekit') }),
  encrypted: fc.boolean(),
  chip: fc.constantFrom('esp32', 'esp32s3', 'esp32c3'),
  expectChip: fc.boolean(),
  verify: fc.constantFrom('md5', 'readback'),
  showMac: fc.boolean(),
});

function csvOf(c: { namespaces: [string, (readonly [string, readonly [string, string]])[]][]; hapSetup?: (readonly [string, readonly [string, string]])[]; collision?: string }): string | undefined {
  const lines: string[] = [];
  for (const [ns, items] of c.namespaces) {
    lines.push(`${ns},namespace,,`);
    for (const [k, [enc, v]] of items) lines.push(`${k},data,${enc},${v}`);
  }
  if (c.hapSetup || c.collision) {
    lines.push('hap_setup,namespace,,');
    for (const [k, [enc, v]] of c.hapSetup ?? []) lines.push(`${k},data,${enc},${v}`);
    if (c.collision) lines.push(`${c.collision},data,binary,AAAA`);
  }
  return lines.length ? `key,type,encoding,value\n${lines.join('\n')}\n` : undefined;
}

describe('property: flashed identity = database identity = label payload', () => {
  it('holds for random profiles and custom CSVs (identity collisions refused before any reservation)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hkfs-prop-'));
    const db = openRegistry(join(root, 'station.db'));
    const registry = new VirtualChipRegistry();
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(profile, customData, async (p, c) => {
          const dir = join(root, `p${++n}`);
          const path = await createDemoProfile(dir);
          const json = JSON.parse(readFileSync(path, 'utf8'));
          json.id = `prop-${n}`;
          json.category = p.category;
          json.flags = p.flags;
          if (p.productData) json.productData = p.productData;
          json.nvs = p.nvs;
          json.verify = p.verify;
          json.label = { size: '40x30', showMac: p.showMac };
          if (p.expectChip) json.expectedChip = p.chip;
          const keys = generateNvsKeys();
          if (p.encrypted) {
            writeFileSync(join(dir, 'keys.bin'), buildKeysPartition(keys));
            json.encryption = { keysFile: 'keys.bin' };
          }
          const csv = csvOf(c);
          if (csv) {
            writeFileSync(join(dir, 'custom.csv'), csv);
            json.customData = { csv: 'custom.csv' };
          }
          writeFileSync(path, JSON.stringify(json));

          const units = async () => (await db.listUnits({ product: json.id })).length;
          if (c.collision) {
            await expect(loadProfile(path)).rejects.toThrow(new RegExp(`custom\\.csv line \\d+, key \`${c.collision}\`: .*identity`));
            expect(await units()).toBe(0);
            return;
          }
          const loaded = await loadProfile(path);
          const station = new Station({ db, profile: loaded, labelDir: join(dir, 'labels'), stationName: 'prop', operator: 'prop', virtualRegistry: registry, labelCompletes: 'done' });
          const port = `virtual:prop-${n}`;
          const mac = randomMac();
          const chip = registry.create(port, { chip: p.chip, mac, pacing: false });
          const outcome = await station.provisionNext(port);
          registry.remove(port);
          if (outcome.kind !== 'done') throw new Error(`${outcome.kind}: ${JSON.stringify(outcome)}`);

          // The database's identity for this MAC …
          const unit = (await db.findByMac(json.id, mac))!;
          expect(unit.id).toBe(outcome.result.unit.id);
          // … is exactly what the device holds (read back from its flash by the inspector).
          let region: Uint8Array = chip.flash.slice(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
          if (p.encrypted) region = decryptNvsImage(region, keys);
          const read = readNvsImage(region);
          expect(read.problems).toEqual([]);
          const setup = read.items.filter((it) => it.namespace === 'hap_setup');
          expect(setup.filter((it) => ['setup_id', 'setup_salt', 'setup_verifier', 'setup_code'].includes(it.key)).map((it) => it.key).sort()).toEqual(['setup_id', 'setup_salt', 'setup_verifier']);
          expect(new TextDecoder().decode(findBlob(read, 'hap_setup', 'setup_id'))).toBe(unit.setupId);
          expect(hex(findBlob(read, 'hap_setup', 'setup_salt')!)).toBe(hex(unit.salt));
          expect(hex(findBlob(read, 'hap_setup', 'setup_verifier')!)).toBe(hex(unit.verifier));
          // the custom data is there too, in its own namespaces
          for (const [ns, items] of c.namespaces) for (const [k] of items) expect(read.items.some((it) => it.namespace === ns && it.key === k), `${ns}/${k}`).toBe(true);

          // The label's QR (the PDF the station wrote, rasterised by poppler, decoded by jsQR) …
          const qr = rasterisePdf(new Uint8Array(readFileSync(outcome.result.labelPdfPath!)), 200).map(decodeQr).find(Boolean);
          expect(qr).toBe(unit.payload);
          // … is a payload of that same identity: its code opens the verifier on the device.
          const parsed = parseSetupPayload(qr!);
          expect(parsed.setupId).toBe(unit.setupId);
          expect(parsed.setupCode).toBe(unit.setupCode);
          expect(parsed.category).toBe(p.category);
          expect(hex(computeVerifier(parsed.setupCode, findBlob(read, 'hap_setup', 'setup_salt')!))).toBe(hex(findBlob(read, 'hap_setup', 'setup_verifier')!));
        }),
        { numRuns: 30 },
      );
    } finally {
      await db.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 240_000);
});
