// shared/ runs in main, renderer, CLI and tests alike: it must not reach for Node, Buffer or the DOM.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

describe('layering', () => {
  const files = sources('shared');

  it('shared/ has modules to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('shared/ imports nothing from node:, electron, or src-main', () => {
    const offenders = files.filter((f) =>
      /from\s+['"](node:|electron|fs|path|crypto|os|child_process)['"/]|from\s+['"][./]*src-main/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('shared/ uses no Buffer and no DOM globals', () => {
    const offenders = files.filter((f) => /\bBuffer\b|\bdocument\.|\bwindow\./.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')));
    expect(offenders).toEqual([]);
  });

  it('nothing outside the Electron entry points imports electron', () => {
    const allowed = new Set(['src-main/electron/main.ts', 'src-main/electron/preload.ts', 'src-main/electron/window.ts', 'src-main/electron/printing.ts', 'src-main/electron/ipc.ts']);
    const offenders = sources('src-main').filter(
      (f) => !allowed.has(f) && !f.startsWith('src-main/electron/') && /from\s+['"]electron['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
