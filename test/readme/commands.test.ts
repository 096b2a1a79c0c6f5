// Every ```sh block of the README runs as written, in order, from a fresh checkout's point of view:
// a scratch folder holding a copy of examples/ (and docs/), each `npx factory-station …` /
// `npx factory-nvs-gen …` line run by the real CLI entry points, globs expanded like a shell, and
// every line must exit 0. `npm …` lines are the harness itself or need Electron/network (npm ci,
// npm test, npm start, npm run preview, npm run bench) and are checked elsewhere (test/cli/start,
// test/ui/preview); ```console blocks (a real bench, commands that run until stopped) are not run.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as station } from '../../src-main/cli/factory-station.ts';
import { main as nvsGen } from '../../src-main/cli/factory-nvs-gen.ts';
import { memoryIO } from '../../src-main/cli/io.ts';

interface Command {
  line: number;
  text: string;
}

/** The ```sh blocks' commands: comments dropped, `\` continuations joined. */
export function readmeCommands(readme: string): Command[] {
  const out: Command[] = [];
  const lines = readme.split('\n');
  let inSh = false;
  let pending: Command | null = null;
  lines.forEach((raw, i) => {
    if (/^```/.test(raw)) {
      inSh = !inSh && raw.trim() === '```sh';
      return;
    }
    if (!inSh) return;
    const text = stripComment(raw).trimEnd();
    if (pending) {
      pending.text += ` ${text.replace(/\\$/, '').trim()}`;
      if (!text.endsWith('\\')) (out.push(pending), (pending = null));
    } else if (text.trim()) {
      const cmd = { line: i + 1, text: text.replace(/\\$/, '').trim() };
      if (text.endsWith('\\')) pending = cmd;
      else out.push(cmd);
    }
  });
  return out;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) quote = c === quote ? null : quote;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Shell words: whitespace-separated, "…" and '…' quoting. */
function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let started = false;
  for (const c of text) {
    if (quote) c === quote ? (quote = null) : (cur += c);
    else if (c === '"' || c === "'") (quote = c), (started = true);
    else if (/\s/.test(c)) started && (out.push(cur), (cur = ''), (started = false));
    else (cur += c), (started = true);
  }
  if (started) out.push(cur);
  return out;
}

/** A shell's globbing of one word (only `*` in the last path part, as the README uses it). */
function glob(cwd: string, word: string): string[] {
  if (!word.includes('*')) return [word];
  const slash = word.lastIndexOf('/');
  const dir = slash < 0 ? '.' : word.slice(0, slash);
  const re = new RegExp(`^${word.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const hits = readdirSync(join(cwd, dir)).filter((f) => re.test(f)).sort();
  return hits.length ? hits.map((f) => (slash < 0 ? f : `${dir}/${f}`)) : [word];
}

const readme = readFileSync('README.md', 'utf8');
const commands = readmeCommands(readme);
const work = mkdtempSync(join(tmpdir(), 'hkfs-readme-'));
cpSync('examples', join(work, 'examples'), { recursive: true });
cpSync('docs', join(work, 'docs'), { recursive: true });

describe('README commands', () => {
  it('has runnable command blocks', () => {
    expect(commands.filter((c) => c.text.startsWith('npx ')).length).toBeGreaterThan(25);
  });

  it('runs no npm line here: each is the harness itself or is checked by its own test', () => {
    const npm = commands.filter((c) => c.text.startsWith('npm ')).map((c) => words(c.text).slice(0, 3).join(' '));
    // npm ci / npm test: this very run; npm start: test/cli/start.test.ts (no Electron here);
    // npm run preview: test/ui/preview.test.ts; npm run bench / test:fast: not tests.
    for (const n of npm) expect(['npm ci', 'npm test', 'npm start', 'npm start --', 'npm run preview', 'npm run bench', 'npm run test:fast'].some((ok) => n === ok || n.startsWith(`${ok} `)), n).toBe(true);
  });

  for (const c of commands) {
    const argv = words(c.text);
    if (argv[0] === 'npm') continue;
    it(`README:${c.line} ${c.text}`, async () => {
      expect(argv[0], 'a README command starts with npx').toBe('npx');
      const [, program, ...rest] = argv;
      const args = rest.flatMap((w) => glob(work, w));
      const io = memoryIO(work, { ...process.env, USER: 'readme' });
      const code = program === 'factory-nvs-gen' ? await nvsGen(args, io) : program === 'factory-station' ? await station(args, io) : -1;
      expect({ code, err: code === 0 ? '' : io.err }).toEqual({ code: 0, err: '' });
    });
  }
});
