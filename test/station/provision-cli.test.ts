// `factory-station provision` in-process: output never shows the setup code (except --json
// --show-code), exit codes for done / re-plug / failure / bad usage, virtual state between runs.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../../src-main/cli/io.ts';
import { run as provision } from '../../src-main/cli/commands/provision.ts';
import { run as history } from '../../src-main/cli/commands/history.ts';
import { runCommand } from '../../src-main/cli/io.ts';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { randomMac, setupDataOnFlash } from './helpers.ts';

beforeAll(() => useOpenSslModPow());

async function cli(dir: string, args: string[], verb: 'provision' | 'history' = 'provision') {
  const io = memoryIO(dir);
  const run = verb === 'provision' ? provision : history;
  const code = await runCommand(io, () => run(args, io));
  return { code, out: io.out, err: io.err };
}

describe('factory-station provision', () => {
  it('provisions, re-plug asks for --reflash, and never prints the code unless --json --show-code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-prov-'));
    await createDemoProfile(dir);
    const mac = randomMac();
    writeFileSync(join(dir, 'chip.json'), JSON.stringify({ chip: 'esp32c3', mac }));
    const base = ['--profile', 'demo-profile.json', '--port', 'virtual:esp32c3', '--virtual-state', 'chip.json', '--db', 'st.db', '--init-db', '--label-out', 'lab'];

    const first = await cli(dir, base);
    expect(first.code, first.err).toBe(0);
    const db = openRegistry(join(dir, 'st.db'));
    const unit = (await db.findByMac('demo-smart-plug', mac))!;
    await db.close();
    expect(unit.status).toBe('done'); // CLI: the label file is the deliverable
    expect(unit.labelPrintCount).toBe(1); // … so history counts it as printed
    expect(unit.station).toBe(hostname()); // not "station" ($HOSTNAME is not exported to programs)
    const all = first.out + first.err;
    expect(all).not.toContain(formatSetupCode(unit.setupCode));
    expect(all).not.toContain(unit.setupCode);
    expect(all).not.toContain(unit.payload);
    expect(first.out).toContain(unit.setupId);
    expect(first.err).toMatch(/^detect: /m);
    expect(first.err).toMatch(/^label: /m);
    const pdf = /label: (\S+\.pdf)/.exec(first.out)![1]!;
    expect(existsSync(pdf)).toBe(true);
    expect(existsSync(pdf.replace(/\.pdf$/, '.svg'))).toBe(true);
    const flash = new Uint8Array(readFileSync(join(dir, 'chip.json.flash')));
    const onDevice = setupDataOnFlash(flash);
    expect(pairSetup(onDevice.salt!, onDevice.verifier!, formatSetupCode(unit.setupCode))).toEqual({ ok: true });

    // same unit again: exit 3, nothing written
    const replug = await cli(dir, [...base, '--json']);
    expect(replug.code).toBe(3);
    expect(JSON.parse(replug.out)).toMatchObject({ ok: false, kind: 'needs-confirmation', setupId: unit.setupId, mac });

    // --reflash: its own identity; --json without --show-code has no code and no payload
    const again = await cli(dir, [...base, '--reflash', '--json', '--verify', 'readback']);
    expect(again.code, again.err).toBe(0);
    const body = JSON.parse(again.out);
    expect(body).toMatchObject({ ok: true, reflashed: true, unit: { id: unit.id, setupId: unit.setupId } });
    expect(again.out).not.toContain(unit.setupCode);
    expect(again.out).not.toContain(formatSetupCode(unit.setupCode));
    expect(again.out).not.toContain('X-HM://');

    const shown = await cli(dir, [...base, '--reflash', '--json', '--show-code']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ setupCode: formatSetupCode(unit.setupCode), payload: unit.payload });

    const db2 = openRegistry(join(dir, 'st.db'));
    expect(await db2.listUnits({ mac })).toHaveLength(1);
    await db2.close();

    // a state file for another chip than the port's is refused, naming both
    const wrongChip = await cli(dir, ['--profile', 'demo-profile.json', '--port', 'virtual:esp32', '--virtual-state', 'chip.json', '--db', 'st.db']);
    expect(wrongChip.code).toBe(2);
    expect(wrongChip.err).toBe(`--virtual-state ${join(dir, 'chip.json')} holds an esp32c3, but --port is virtual:esp32: use --port virtual:esp32c3 or another state file\n`);
    // a damaged state file is named
    writeFileSync(join(dir, 'bad.json'), '{ chip: ');
    const broken = await cli(dir, ['--profile', 'demo-profile.json', '--port', 'virtual:esp32', '--virtual-state', 'bad.json', '--db', 'st.db']);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(new RegExp(`^--virtual-state ${join(dir, 'bad.json').replace(/[/.]/g, '\\$&')}: not a virtual chip state file \\(JSON: `));
    // a --db in a folder that does not exist: refused, nothing created
    const typo = await cli(dir, [...base.slice(0, 6), '--db', 'nowhere/fan.db']);
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/--db .*nowhere\/fan\.db does not exist, nor does its folder .*: check the path, or add --init-db/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    // history on something that is not a database names it, and leaves it alone
    const hist = await cli(dir, ['--db', 'demo-profile.json'], 'history');
    expect(hist.code).toBe(1);
    expect(hist.err).toBe(`history: ${join(dir, 'demo-profile.json')}: not a station database (not an SQLite file)\n`);
  });

  it('a failing unit: exit 1, stage + readable message + next step, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-prov-'));
    await createDemoProfile(dir);
    // an ESP32-S3 unit on a line whose product is ESP32-C3 only
    const profile = JSON.parse(readFileSync(join(dir, 'demo-profile.json'), 'utf8'));
    profile.expectedChip = 'esp32c3';
    writeFileSync(join(dir, 'c3-only.json'), JSON.stringify(profile));
    const r = await cli(dir, ['--profile', 'c3-only.json', '--port', 'virtual:esp32s3', '--db', 'st.db', '--init-db', '--label-out', 'lab']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^failed at identity: .*ESP32-S3.*esp32c3/m);
    expect(r.err).toMatch(/^next: .+/m);
    expect(r.err).not.toMatch(/\n\s+at /);
    const db = openRegistry(join(dir, 'st.db'));
    expect(await db.listUnits({})).toHaveLength(0); // no identity spent on a unit of the wrong product
    await db.close();
  });

  it('bad usage: one clear line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-prov-'));
    expect((await cli(dir, ['--port', 'virtual:esp32'])).code).toBe(2);
    const bad = await cli(dir, ['--profile', 'p.json', '--port', 'virtual:esp32', '--verify', 'crc']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--verify');
    const show = await cli(dir, ['--profile', 'p.json', '--port', 'virtual:esp32', '--show-code']);
    expect(show.code).toBe(2);
    const help = await cli(dir, ['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--virtual-state');
  });
});
