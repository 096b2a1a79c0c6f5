// Shared by the production-line acceptance tests: a line of station processes (station-process.ts)
// on one PostgreSQL registry, and the checks that a device holds exactly its registry record.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { UnitRecord } from '../../src-main/registry/index.ts';
import { pairSetup } from '../homekit/helpers/fast-srp.ts';
import { setupDataOnFlash, FACTORY_NVS } from '../station/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface BoardLine {
  mac: string;
  kind: 'done' | 'failed' | 'needs-confirmation';
  code: string | null;
  unitId: number | null;
  nvs: string | null;
  blank: boolean;
}

/** Runs one station process to its end; rejects with its stderr if it fails. */
export function runStation(config: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.mjs'), join(ROOT, 'test/line/station-process.ts'), JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`station ${String(config.station)} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export function boardsOf(out: string): BoardLine[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as BoardLine | { registry: boolean }).filter((l): l is BoardLine => 'mac' in l);
}

/** What the board's flash holds is exactly the unit's record: setup ID, salt, verifier (and the code pairs with it). */
export function expectDeviceMatches(board: BoardLine, unit: UnitRecord | undefined, checkPairing: boolean): void {
  expect(unit, board.mac).toBeDefined();
  const flash = new Uint8Array(FACTORY_NVS.offset + FACTORY_NVS.size).fill(0xff);
  flash.set(Buffer.from(board.nvs!, 'base64'), FACTORY_NVS.offset);
  const onDevice = setupDataOnFlash(flash);
  expect(onDevice.problems, board.mac).toEqual([]);
  expect(onDevice.setupId, board.mac).toBe(unit!.setupId);
  expect(Buffer.from(onDevice.salt!).equals(Buffer.from(unit!.salt)), board.mac).toBe(true);
  expect(Buffer.from(onDevice.verifier!).equals(Buffer.from(unit!.verifier)), board.mac).toBe(true);
  if (checkPairing) expect(pairSetup(onDevice.salt!, onDevice.verifier!, formatSetupCode(unit!.setupCode))).toEqual({ ok: true });
}
