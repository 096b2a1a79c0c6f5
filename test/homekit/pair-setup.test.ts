// Pair-setup proof: for 1000 random accessories made by factory-nvs-gen, an independent SRP
// implementation (fast-srp-hap: controller knowing only the setup code, accessory knowing only the
// salt + verifier read back from the written .bin) completes Pair-Setup — and fails with a wrong code.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { main } from '../../src-main/cli/factory-nvs-gen.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { generateSetupCode, formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { generateSetupId } from '../../shared/homekit/setup-id.ts';
import { decryptNvsImage } from '../../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { pairSetup, useOpenSslModPow } from './helpers/fast-srp.ts';
import { readSetupInfo, tempDir } from './helpers/run-tool.ts';

const UNITS = 1000;
const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Unit {
  code: string;
  id: string;
  bin: string;
  encrypted: boolean;
}

/** Every 8th salt drawn starts with 0x00, every 32nd with 0x00 0x00 (the reference's q1 case). */
function saltForcingRandom(): (n: number) => Uint8Array {
  let salts = 0;
  return (n) => {
    const bytes = new Uint8Array(randomBytes(n));
    if (n === 16) {
      if (salts % 8 === 0) bytes[0] = 0;
      if (salts % 32 === 0) bytes[1] = 0;
      salts++;
    }
    return bytes;
  };
}

describe('Pair-Setup against generated images', () => {
  const units: Unit[] = [];
  const keysFile = readFileSync('test/fixtures/homekit/factory/10-encrypt-keyfile/nvs_keys.bin');

  it(`factory-nvs-gen writes ${UNITS} images with random codes, IDs and salts`, async () => {
    const random = saltForcingRandom();
    const io = memoryIO(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'nvs_keys.bin'), keysFile);
    for (let i = 0; i < UNITS; i++) {
      const code = generateSetupCode();
      const id = generateSetupId();
      const encrypted = i % 25 === 0;
      const argv = [code, id, `u${i}`];
      if (i % 10 === 1) argv.push('--version', 'v1');
      if (encrypted) argv.push('--encrypt', 'true', '--keyfile', 'nvs_keys.bin');
      const status = await main(argv, io, { randomBytes: random });
      expect(status, io.err).toBe(0);
      units.push({ code, id, bin: `u${i}.bin`, encrypted });
    }
    expect(io.err).toBe('');
    expect(new Set(units.map((u) => u.code)).size).toBeGreaterThan(UNITS - 3);
  });

  it('every image pairs with its own code (salts with leading zero bytes included)', () => {
    useOpenSslModPow();
    const keys = parseKeysPartition(keysFile);
    let leadingZero = 0;
    const failures: string[] = [];
    for (const unit of units) {
      let image = new Uint8Array(readFileSync(join(dir, unit.bin)));
      if (unit.encrypted) image = new Uint8Array(decryptNvsImage(image, keys));
      const info = readSetupInfo(image);
      expect(info.setupId).toBe(unit.id);
      expect(info.salt.length).toBe(16);
      expect(info.verifier.length).toBe(384);
      if (info.salt[0] === 0) leadingZero++;
      const result = pairSetup(info.salt, info.verifier, formatSetupCode(unit.code));
      if (!result.ok) failures.push(`${unit.bin}: ${result.failedAt}`);
    }
    expect(failures).toEqual([]);
    expect(units.length).toBe(UNITS);
    expect(leadingZero).toBeGreaterThanOrEqual(UNITS / 8);
  }, 240_000);

  it('a wrong code never pairs', () => {
    useOpenSslModPow();
    for (const unit of units.filter((u) => !u.encrypted).slice(0, 40)) {
      const info = readSetupInfo(new Uint8Array(readFileSync(join(dir, unit.bin))));
      const wrong = String((Number(unit.code) + 1) % 1e8).padStart(8, '0');
      expect(pairSetup(info.salt, info.verifier, `${wrong.slice(0, 3)}-${wrong.slice(3, 5)}-${wrong.slice(5)}`).ok).toBe(false);
      // and the unhyphenated spelling is a different password altogether
      expect(pairSetup(info.salt, info.verifier, unit.code).ok).toBe(false);
    }
  });
});
