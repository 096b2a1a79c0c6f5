// One chip table (shared/chips.ts) and no second one: every source file of the product (shared,
// src-main, src-renderer, bench, scripts, bin) is parsed, and any array, object, union type or
// switch that names two or more chips is a second list — it fails here, naming file and line.
// The JSON Schema (a document for editors, it cannot import the table) must list exactly the
// table's ids. Every chip of the table also has what the rest of the station needs: an esptool-js
// class and flasher stub, and a virtual ROM model.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { getStubJsonByChipName } from 'esptool-js';
import { CHIPS, CHIP_IDS, chipFromMagic, imageTargetChip, normalizeChipId } from '../../shared/chips.ts';
import { romFor } from '../../src-main/flash/chips.ts';
import { PROFILES } from '../../src-main/virtual-chip/profiles.ts';
import { classifyUsbBridge } from '../../src-main/flash/usb-ids.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TABLE = 'shared/chips.ts';

/** The chip a string names, if it names one: 'esp32s3', 'ESP32-S3', 'virtual:esp32s3', 'virtual:esp32s3-2'. */
function chipToken(text: string): string | undefined {
  const t = text.trim().replace(/^virtual:/i, '').replace(/-\d+$/, '');
  return normalizeChipId(t);
}

function files(dir: string, exts: readonly string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'out') return [];
    if (statSync(p).isDirectory()) return files(p, exts);
    return exts.some((e) => p.endsWith(e)) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Lists of two or more chips in TypeScript / JavaScript source: `file:line: what`. */
export function chipListsInScript(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, path.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: string[] = [];
  // Strings name chips; so do property names. A variable's name (an array of model objects) does not.
  const nameOf = (n: ts.Node): string | undefined => {
    if (ts.isStringLiteralLike(n)) return n.text;
    if (ts.isIdentifier(n) && n.parent && ts.isPropertyAssignment(n.parent) && n.parent.name === n) return n.text;
    if (ts.isIdentifier(n) && n.parent && ts.isShorthandPropertyAssignment(n.parent)) return n.text;
    if (ts.isLiteralTypeNode(n) && ts.isStringLiteral(n.literal)) return n.literal.text;
    return undefined;
  };
  const report = (node: ts.Node, kind: string, parts: readonly (ts.Node | undefined)[]) => {
    const chips = new Set(parts.flatMap((p) => {
      const name = p && nameOf(p);
      const chip = name === undefined ? undefined : chipToken(name);
      return chip ? [chip] : [];
    }));
    if (chips.size >= 2) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push(`${path}:${line}: ${kind} of chips (${[...chips].join(', ')})`);
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isArrayLiteralExpression(node)) report(node, 'array', node.elements);
    else if (ts.isObjectLiteralExpression(node)) report(node, 'object', node.properties.map((p) => p.name));
    else if (ts.isUnionTypeNode(node)) report(node, 'union type', node.types);
    else if (ts.isSwitchStatement(node)) report(node, 'switch', node.caseBlock.clauses.map((c) => (ts.isCaseClause(c) ? c.expression : undefined)));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Svelte markup has no parser here: a component naming two chips at all is a list. */
export function chipListsInMarkup(path: string, text: string): string[] {
  const chips = new Set<string>();
  for (const m of text.matchAll(/["'`]([^"'`\n]{1,40})["'`]/g)) {
    const chip = chipToken(m[1]!);
    if (chip) chips.add(chip);
  }
  return chips.size >= 2 ? [`${path}: names chips ${[...chips].join(', ')}`] : [];
}

describe('one chip table', () => {
  it('the detector finds a second list in each form it could take (arrays, objects, unions, switches, markup)', () => {
    expect(chipListsInScript('a.ts', "const x = ['esp32', 'esp32c6'];")).toHaveLength(1);
    expect(chipListsInScript('a.ts', "type T = 'esp32' | 'esp32s3';")).toHaveLength(1);
    expect(chipListsInScript('a.ts', 'const names = { esp32: "ESP32", esp32c3: "ESP32-C3" };')).toHaveLength(1);
    expect(chipListsInScript('a.ts', "switch (c) { case 'ESP32-S2': break; case 'ESP32-C6': break; }")).toHaveLength(1);
    expect(chipListsInScript('a.js', "const ports = ['virtual:esp32s2', 'virtual:esp32-2'];")).toHaveLength(1);
    expect(chipListsInMarkup('a.svelte', '<option value="esp32">ESP32</option><option value="esp32s3">ESP32-S3</option>')).toHaveLength(1);
    // one chip named on its own is not a list
    expect(chipListsInScript('a.ts', "if (chip === 'esp32') x(); const p = 'virtual:esp32c3';")).toEqual([]);
  });

  it('no source file outside shared/chips.ts lists chips', () => {
    const scripts = ['shared', 'src-main', 'src-renderer', 'bench', 'scripts', 'bin'].flatMap((d) => files(join(ROOT, d), ['.ts', '.mjs', '.js']));
    const markup = files(join(ROOT, 'src-renderer'), ['.svelte', '.html']);
    expect(scripts.length).toBeGreaterThan(100);
    const problems: string[] = [];
    for (const file of scripts) {
      const rel = relative(ROOT, file);
      if (rel === TABLE) continue;
      problems.push(...chipListsInScript(rel, readFileSync(file, 'utf8')));
    }
    for (const file of markup) problems.push(...chipListsInMarkup(relative(ROOT, file), readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('the profile JSON Schema lists exactly the table’s chips, in its order', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'profile.schema.json'), 'utf8')) as { properties: { expectedChip: { enum: string[] } } };
    expect(schema.properties.expectedChip.enum).toEqual(CHIP_IDS);
  });
});

describe('every chip of the table is complete', () => {
  it.each(CHIPS.map((c) => [c.id, c] as const))('%s: esptool-js class and stub, a virtual ROM model, detection from magic and image header', async (id, chip) => {
    const rom = await romFor(id);
    expect(rom.CHIP_NAME).toBe(chip.name);
    expect(rom.IMAGE_CHIP_ID).toBe(chip.imageChipId);
    expect(rom.BOOTLOADER_FLASH_OFFSET).toBe(chip.bootloaderOffset);
    if (chip.stub) expect(await getStubJsonByChipName(rom.CHIP_NAME)).toBeTruthy();
    const model = PROFILES[id];
    expect(model.name).toBe(chip.name);
    expect(chip.magic as readonly number[]).toContain(model.magic);
    for (const m of chip.magic) expect(chipFromMagic(m)).toBe(id);
    const header = new Uint8Array(32);
    header[0] = 0xe9;
    header[12] = chip.imageChipId;
    expect(imageTargetChip(header)).toBe(id);
    for (const usb of chip.usbIds) expect(classifyUsbBridge(usb.slice(0, 4), usb.slice(5))?.kind).toBe(chip.nativeUsb === 'usb-otg' || usb !== '303a:1001' ? 'usb-otg' : 'usb-serial-jtag');
  });
});
