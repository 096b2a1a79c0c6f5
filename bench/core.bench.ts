// Core generation throughput: one "unit" = setup code + setup ID + salt + verifier + factory CSV +
// NVS image (what the station makes per accessory, without I/O), and the verifier alone against a
// naive BigInt square-and-multiply on the same exponents, measured in the same run.
import { generateSetupCode } from '../shared/homekit/setup-code.ts';
import { generateSetupId } from '../shared/homekit/setup-id.ts';
import { computeSrpX, computeVerifier, generateSetupInfo, precomputeSrpTable, SRP_G, SRP_N } from '../shared/homekit/srp.ts';
import { buildFactoryCsv } from '../shared/homekit/factory-csv.ts';
import { generateNvsImage } from '../shared/nvs/writer.ts';

const VERIFIER_SAMPLES = 300;
const UNITS = 500;

function naiveModPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`);

export async function bench(): Promise<void> {
  let t = performance.now();
  precomputeSrpTable();
  console.log(`fixed-base table (g^(d·256^i), 64 × 255 entries): built in ${(performance.now() - t).toFixed(0)} ms (once per process)`);

  const inputs = Array.from({ length: VERIFIER_SAMPLES }, () => {
    const code = generateSetupCode();
    const salt = crypto.getRandomValues(new Uint8Array(16));
    return { code, salt, x: toBigInt(computeSrpX(code, salt)) };
  });
  for (const { code, salt } of inputs.slice(0, 20)) computeVerifier(code, salt); // warm-up

  t = performance.now();
  for (const { code, salt } of inputs) computeVerifier(code, salt);
  const fast = (performance.now() - t) / inputs.length;

  t = performance.now();
  for (const { x } of inputs) naiveModPow(SRP_G, x, SRP_N);
  const naive = (performance.now() - t) / inputs.length;
  console.log(
    `verifier: ${fast.toFixed(3)} ms/unit (mean of ${inputs.length}, hashes + table + bytes) vs naive BigInt modexp ` +
      `${naive.toFixed(3)} ms/unit → ${(naive / fast).toFixed(1)}× faster`,
  );

  t = performance.now();
  for (let i = 0; i < UNITS; i++) {
    const code = generateSetupCode();
    const setupId = generateSetupId();
    const { salt, verifier } = generateSetupInfo(code);
    const csv = buildFactoryCsv({ setupId, salt, verifier });
    generateNvsImage(csv, { size: 0x4000, version: 2, layout: 'homekit' });
  }
  const perUnit = (performance.now() - t) / UNITS;
  console.log(`units (code + ID + salt + verifier + CSV + 16 KiB NVS image): ${(1000 / perUnit).toFixed(0)} units/s (${perUnit.toFixed(3)} ms/unit, ${UNITS} units)`);
}
