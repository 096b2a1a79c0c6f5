// Loads the NVS golden vectors (test/fixtures/nvs, copied from shared/vectors/nvs) and turns each
// recorded generator run into something the tests can replay.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type { NvsLayout } from '../../shared/nvs/writer.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/nvs/', import.meta.url));

export interface VectorOutput {
  file: string;
  bytes: number;
  sha256: string;
  stored?: boolean;
}

export interface VectorRun {
  id: string;
  tool: string;
  command: string;
  ok: boolean;
  exit_code: number;
  outputs?: VectorOutput[];
  error?: { kind: string; message?: string; exception?: string };
  output_files_after_failure?: Record<string, string>;
}

export interface VectorCase {
  name: string;
  runs: VectorRun[];
  items?: { key: string; size?: number; at?: string }[];
}

/** A `generate` run with everything needed to replay it. */
export interface GenerateRun {
  case: VectorCase;
  run: VectorRun;
  csv: string;
  output: string;
  size: string;
  version: 1 | 2;
  layout: NvsLayout;
  /** CLI argv (after `factory-station nvs`) reproducing the run. */
  argv: string[];
}

export function loadCases(): VectorCase[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as VectorCase);
}

const UPSTREAM_GENERATE = /^nvs_partition_gen\.py generate (.+)$/;
const HOMEKIT_CALL =
  /nvs_part_gen\(input_filename='([^']+)', output_filename='([^']+)', input_part_size='([^']+)', is_key_gen='false', encrypt_mode='false', key_file=None, version_no='v([12])'/;

function layoutOf(tool: string): NvsLayout {
  if (tool.startsWith('esp-idf-nvs-partition-gen')) return 'upstream';
  if (tool.startsWith('ESP-IDF v5.2')) return 'idf52';
  if (tool.startsWith('esp-homekit-sdk')) return 'homekit';
  throw new Error(`unknown tool in vector: ${tool}`);
}

/**
 * Every plain `generate` run (upstream, idf52 and HomeKit-copy calls). encrypt/decrypt/generate-key
 * runs and encrypting HomeKit calls are left out (engineer B replays those).
 */
export function generateRuns(): GenerateRun[] {
  const out: GenerateRun[] = [];
  for (const c of loadCases()) {
    for (const run of c.runs) {
      const layout = layoutOf(run.tool);
      const up = UPSTREAM_GENERATE.exec(run.command);
      if (up) {
        const argv = ['generate', ...up[1]!.trim().split(/\s+/)];
        const positionals = argv.slice(1).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
        const [csv, output, size] = positionals as [string, string, string];
        const vi = argv.indexOf('--version');
        const version = vi >= 0 && argv[vi + 1] === '1' ? 1 : 2;
        if (layout !== 'upstream') argv.push('--layout', layout);
        out.push({ case: c, run, csv, output, size, version, layout, argv });
        continue;
      }
      const hk = HOMEKIT_CALL.exec(run.command);
      if (hk) {
        const [, csv, output, size, v] = hk as unknown as [string, string, string, string, string];
        const version = v === '1' ? 1 : 2;
        const argv = ['generate', csv, output, size, '--version', String(version), '--layout', 'homekit'];
        out.push({ case: c, run, csv, output, size, version, layout, argv });
      }
    }
  }
  return out;
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where a content error must point: hand-derived from each CSV (line of the offending row, its key). */
export const CONTENT_ERRORS: Record<string, { line: number; key?: string }> = {
  'err_blob_too_large_v1/v1': { line: 3, key: 'b' },
  'err_hex_bad_digit/v2': { line: 3, key: 'h' },
  'err_hex_odd_length/v2': { line: 3, key: 'h' },
  // Page 0: namespace + k000..k124 (126 slots); page 1: k125..k250; k251 (line 3 + 251) does not fit.
  'err_insufficient_size/v2': { line: 254, key: 'k251' },
  'err_int_empty/v2': { line: 3, key: 'x' },
  'err_int_hex_literal/v2': { line: 3, key: 'x' },
  'err_key_too_long/v2': { line: 3, key: 'abcdefghijklmnop' },
  'err_missing_file/v2': { line: 3, key: 'f' },
  // No header: "ns,namespace,," is taken as the header, the first data row (line 2) fails.
  'err_missing_header/v2': { line: 2 },
  'err_string_page_overflow_v2/v2': { line: 3, key: 's' },
  'err_string_too_long_v1/v1': { line: 3, key: 's' },
  'err_string_too_long_v2/v2': { line: 3, key: 's' },
  'err_u8_out_of_range/v2': { line: 3, key: 'x' },
  'err_unsupported_encoding/v2': { line: 3, key: 'f' },
  'blob_multipage_v2/v1': { line: 4, key: 'big' },
  'idf_sample_multipage/v1': { line: 21, key: 'binFileKey' },
  'string_max_v2/v1': { line: 3, key: 'big' },
};

/** Runs rejected for their command line (size, output name), not their CSV content: reference message. */
export const ARGUMENT_ERRORS: Record<string, string> = {
  'err_output_not_bin/v2': 'Error: `err_output_not_bin.img`. Only `.bin` extension allowed.',
  'err_size_not_a_number/v2': "invalid literal for int() with base 0: '12k'",
  'err_size_not_multiple/v2': 'Size of partition must be multiple of 4096',
  'err_size_too_small/v2': 'Minimum partition size for read/write NVS is 0x3000 bytes and for read-only NVS is 0x1000 bytes.',
};

/**
 * HomeKit-copy runs the reference rejects only because of that copy's bugs, which we deliberately
 * do not reproduce (spec §13: no hex2bin whitespace strip, no `#` comments, no i16/u64/i64,
 * 1984-byte string limit in v2). We generate these; the tests compare with the upstream vector.
 */
export const HOMEKIT_BUG_REJECTIONS = new Set([
  'blob_encodings/v2.homekit',
  'comments_quoting/v2.homekit',
  'file_types/v2.homekit',
  'primitives/v2.homekit',
  'string_max_v2/v2.homekit',
]);

/**
 * Runs the reference accepts that we refuse on purpose (README, "where we do better"): a namespace
 * declared twice makes keys land where the CSV does not put them. The writer still reproduces
 * their bytes with `strict: false` (writer.test.ts); the command line refuses them.
 */
export const STRICT_REFUSALS: Record<string, RegExp> = {
  'namespace_redeclared/v2': /line 6, key `nsA`: namespace `nsA` is declared again \(first on line 2\)/,
  'namespace_redeclared/v1': /line 6, key `nsA`: namespace `nsA` is declared again/,
  'namespace_redeclared/v2.idf52': /line 6, key `nsA`: namespace `nsA` is declared again/,
  'namespace_redeclared/v2.homekit': /line 6, key `nsA`: namespace `nsA` is declared again/,
};

export function runId(r: GenerateRun): string {
  return `${r.case.name}/${r.run.id}`;
}
