// `factory-station nvs generate-key | encrypt | decrypt | inspect`: the encryption half of
// nvs_partition_gen.py (same positional arguments, options, output files and stdout lines), plus
// `inspect`, which verifies an image with shared/nvs/reader.ts. The `nvs` dispatcher loads this
// module; each sub-command lives in its own file (nvs-generate-key.ts, nvs-encrypt.ts,
// nvs-decrypt.ts, nvs-inspect.ts), the keys and image files they share in nvs-crypto-files.ts, and
// argument parsing, size and output-path rules shared with `generate` in ../nvs-args.ts.
//
// Deliberate differences from the reference: keys come from the CSPRNG (not Python's `random`);
// keys files are CRC-checked; key files are written with mode 0600 and never overwrite an existing
// file (a lost key = devices whose NVS cannot be read); decrypting with the wrong key is detected
// (the decrypted entries fail their CRCs) and refused; nothing is written unless every output of
// the command could be produced; bad CSV content is one line on stderr.
export { runGenerateKey } from './nvs-generate-key.ts';
export { runEncrypt } from './nvs-encrypt.ts';
export { runDecrypt } from './nvs-decrypt.ts';
export { runInspect } from './nvs-inspect.ts';
export { defaultKeysFileName } from './nvs-crypto-files.ts';
