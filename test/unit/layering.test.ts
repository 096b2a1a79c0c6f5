// Who may import whom, so the issue-13 fixes stay fixed:
//   * shared/ runs in main, renderer, CLI and tests alike: no Node (any `node:` module), Buffer, DOM
//     or src-main;
//   * src-main/cli/ is a leaf: nothing else in src-main imports it (batch/, station/, app/ … return
//     typed errors and take plain output interfaces; cli/ words them);
//   * src-main/flash/ never imports src-main/virtual-chip/: virtual chips reach the flasher only
//     through an injected port opener;
//   * electron only in src-main/electron/;
//   * files are renamed into place only by src-main/fs/ (the one atomic-write helper).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

function sources(dir: string, exts = ['.ts', '.mjs']): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p, exts);
    return exts.some((e) => p.endsWith(e)) && !p.endsWith('.d.ts') && !p.endsWith('.d.mts') ? [p] : [];
  });
}

interface SourceFile {
  path: string;
  text: string;
}

/** The text without comments (a `//` after a non-space, as in `station://app`, is not one). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** Every module specifier a file imports (static, re-exports, side-effect and dynamic imports, require). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /(?:^|[\s;}])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const body = code(text);
  for (const re of patterns) for (const m of body.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The src-main folder (cli, batch, flash …) a file or a resolved import belongs to. */
function layerOf(path: string): string | undefined {
  const parts = normalize(path).split(sep);
  const i = parts.indexOf('src-main');
  return i >= 0 && parts.length > i + 2 ? parts[i + 1] : undefined;
}

/** `importer → imported` pairs of src-main folders that must never happen. */
const FORBIDDEN: [from: (layer: string) => boolean, to: string, why: string][] = [
  [(l) => l !== 'cli', 'cli', 'cli/ is a leaf: only cli/ imports cli/'],
  [(l) => l === 'flash', 'virtual-chip', 'the flasher gets virtual chips only through an injected port opener'],
];

/** Layering violations in `files` (paths relative to the repository root). */
export function violations(files: readonly SourceFile[]): string[] {
  const found: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    for (const spec of importsOf(f.text)) {
      if (f.path.startsWith(`shared${sep}`) || f.path.startsWith('shared/')) {
        if (/^(node:|electron$|fs$|path$|crypto$|os$|child_process$)/.test(spec) || /(^|\/)src-main\//.test(spec) || (spec.startsWith('.') && layerOf(join(dirname(f.path), spec)) !== undefined)) {
          found.push(`${f.path}: imports ${spec} (shared/ must not use Node or src-main)`);
        }
        continue;
      }
      if (spec === 'electron' && !f.path.replace(/\\/g, '/').startsWith('src-main/electron/')) found.push(`${f.path}: imports electron outside src-main/electron/`);
      if (!from || !spec.startsWith('.')) continue;
      const to = layerOf(join(dirname(f.path), spec));
      if (!to || to === from) continue;
      for (const [rule, target, why] of FORBIDDEN) if (to === target && rule(from)) found.push(`${f.path}: imports ${spec} (${why})`);
    }
  }
  return found;
}

const repo = (dir: string) => sources(dir).map((p) => ({ path: relative('.', p), text: readFileSync(p, 'utf8') }));

describe('layering', () => {
  const shared = repo('shared');
  const main = repo('src-main');

  it('has modules to check', () => {
    expect(shared.length).toBeGreaterThan(0);
    expect(main.length).toBeGreaterThan(50);
  });

  it('the import scanner sees every form of import (and `node:` modules, which the old pattern missed)', () => {
    const text = `import { a } from 'node:fs';\nimport {\n  b,\n} from "../cli/io.ts";\nexport { c } from './c.ts';\nimport './side.ts';\nconst d = await import('../virtual-chip/index.ts');\n// import { e } from '../ignored.ts';\nconst url = 'station://app';`;
    expect(importsOf(text)).toEqual(['node:fs', '../cli/io.ts', './c.ts', './side.ts', '../virtual-chip/index.ts']);
  });

  it('the rules fire: batch/ importing cli/, flash/ importing virtual-chip/, shared/ importing node:fs', () => {
    expect(violations([{ path: 'src-main/batch/run.ts', text: "import { CliError } from '../cli/io.ts';" }])).toEqual([
      'src-main/batch/run.ts: imports ../cli/io.ts (cli/ is a leaf: only cli/ imports cli/)',
    ]);
    expect(violations([{ path: 'src-main/batch/run.ts', text: "import type { CliIO } from '../cli/io.ts';" }])).toHaveLength(1);
    expect(violations([{ path: 'src-main/station/station.ts', text: "const io = await import('../cli/io.ts');" }])).toHaveLength(1);
    expect(violations([{ path: 'src-main/flash/open-port.ts', text: "import { createVirtualBinding } from '../virtual-chip/index.ts';" }])).toHaveLength(1);
    expect(violations([{ path: 'shared/nvs/x.ts', text: "import { readFileSync } from 'node:fs';" }])).toHaveLength(1);
    expect(violations([{ path: 'src-main/cli/commands/batch.ts', text: "import { run } from '../../batch/run.ts';" }])).toEqual([]);
  });

  it('the tree keeps the rules: cli/ a leaf, flash/ without virtual-chip/, shared/ without Node or src-main, electron only in electron/', () => {
    expect(violations([...shared, ...main])).toEqual([]);
  });

  it('shared/ uses no Buffer and no DOM globals', () => {
    const offenders = shared.filter((f) => /\bBuffer\b|\bdocument\.|\bwindow\./.test(code(f.text)));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it('files are written into place only by src-main/fs/ (the one atomic-write helper)', () => {
    // Node's file-writing calls may be imported by src-main/fs/ only. The bundle cache may rename a
    // whole build folder into place (its files go through fs/atomic.mjs).
    const writers = /^(rename|renameSync|writeFile|writeFileSync|copyFile|copyFileSync|cp|cpSync|createWriteStream|appendFile|appendFileSync|link|linkSync|symlink|symlinkSync)$/;
    const allowed = new Set(['src-main/bundle/cache.mjs: renameSync']);
    const offenders: string[] = [];
    for (const f of main) {
      const path = f.path.replace(/\\/g, '/');
      if (path.startsWith('src-main/fs/')) continue;
      for (const m of code(f.text).matchAll(/import\s*\{([^}]*)\}\s*from\s*['"](?:node:)?fs(?:\/promises)?['"]/g)) {
        for (const name of m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!)) {
          if (writers.test(name) && !allowed.has(`${path}: ${name}`)) offenders.push(`${path}: ${name}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
