// Exact bytes on the wire, against the frames quoted in the spec (§2–§13), with no host library.
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { deflate } from 'pako';
import { SlipDecoder, slipEncode } from '../../src-main/virtual-chip/index.ts';
import { hex, rawLink, type RawLink } from './helpers/raw.ts';

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const words = (...v: number[]) => new Uint8Array(v.flatMap(le32));
const xorChecksum = (d: Uint8Array) => d.reduce((c, b) => c ^ b, 0xef);

function request(op: number, data: Uint8Array = new Uint8Array(0), chk = 0): Uint8Array {
  const pkt = new Uint8Array(8 + data.length);
  pkt.set([0x00, op, data.length & 0xff, data.length >> 8, ...le32(chk)]);
  pkt.set(data, 8);
  return slipEncode(pkt);
}

function dataCommand(op: number, seq: number, block: Uint8Array, chk = xorChecksum(block)): Uint8Array {
  const d = new Uint8Array(16 + block.length);
  d.set(words(block.length, seq, 0, 0));
  d.set(block, 16);
  return request(op, d, chk);
}

const SYNC_REQUEST = hex('C0 00 08 24 00 00 00 00 00 07 07 12 20' + ' 55'.repeat(32) + ' C0');
const ROM_SYNC_ANSWER = hex('C0 01 08 04 00 07 07 12 20 00 00 00 00 C0');
const STUB_SYNC_ANSWER = hex('C0 01 08 02 00 00 00 00 00 00 00 C0');

async function exchange(link: RawLink, bytes: Uint8Array, expectBytes: number): Promise<Uint8Array> {
  link.clear();
  link.port.write(bytes);
  return link.waitFor(expectBytes);
}

/** Uploads a tiny fake "stub" and starts it; returns after OHAI. */
async function startStub(link: RawLink): Promise<void> {
  const code = new Uint8Array(64).fill(0x11);
  await exchange(link, request(0x05, words(code.length, 1, 0x1800, 0x40080000)), 14);
  await exchange(link, dataCommand(0x07, 0, code), 14);
  const out = await exchange(link, request(0x06, words(0, 0x40080010)), 14 + 6);
  expect(out).toEqual(new Uint8Array([...hex('C0 01 06 04 00 00 00 00 00 00 00 00 00 C0'), ...hex('C0 4F 48 41 49 C0')]));
}

describe('SLIP', () => {
  test('escapes C0 and DB after framing', () => {
    expect(slipEncode(hex('01 C0 DB 02'))).toEqual(hex('C0 01 DB DC DB DD 02 C0'));
  });
  test('decoder skips noise and empty frames, drops bad escapes, handles split input', () => {
    const d = new SlipDecoder();
    expect(d.push(new TextEncoder().encode('boot text\r\n'))).toEqual([]);
    expect(d.push(hex('C0 C0 01 DB'))).toEqual([]);
    expect(d.push(hex('DC 02 C0 03 DB 05 04 C0 C0 05 C0'))).toEqual([hex('01 C0 02'), hex('05')]);
  });
});

describe('ROM', () => {
  test('SYNC is answered with the exact 14-byte frame, 8 times', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    const out = await exchange(link, SYNC_REQUEST, 8 * 14);
    expect(out).toEqual(new Uint8Array(Array.from({ length: 8 }, () => [...ROM_SYNC_ANSWER]).flat()));
    expect(await link.settle()).toHaveLength(8 * 14);
  });

  test('READ_REG of the magic register matches the spec frame (ESP32)', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    const out = await exchange(link, hex('C0 00 0A 04 00 00 00 00 00 00 10 00 40 C0'), 14);
    expect(out).toEqual(hex('C0 01 0A 04 00 83 1D F0 00 00 00 00 00 C0'));
  });

  test('ESP32 ROM answers GET_SECURITY_INFO as unsupported: 8 × (status 1, error 5) under another opcode', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    await exchange(link, SYNC_REQUEST, 8 * 14);
    const out = await exchange(link, request(0x14), 8 * 14);
    const frames = new SlipDecoder().push(out);
    expect(frames).toHaveLength(8);
    for (const f of frames) expect(f).toEqual(hex('01 08 04 00 00 00 00 00 01 05 00 00'));
  });

  test('the unsupported reply can echo the request opcode instead', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true, unsupportedReply: 'echo' });
    const frames = new SlipDecoder().push(await exchange(link, request(0xd0), 8 * 14));
    expect(frames).toHaveLength(8);
    expect(frames[0]).toEqual(hex('01 D0 04 00 00 00 00 00 01 05 00 00'));
  });

  test('S3, C3 and C6 ROMs return GET_SECURITY_INFO with their chip id and 4 status bytes', async () => {
    for (const [chip, id] of [['esp32s3', 9], ['esp32c3', 5], ['esp32c6', 13]] as const) {
      const link = await rawLink({ chip, pacing: false, startInDownloadMode: true });
      const [frame] = new SlipDecoder().push(await exchange(link, request(0x14), 34));
      expect(frame.subarray(0, 4)).toEqual(hex('01 14 18 00'));
      const payload = frame.subarray(8);
      expect(payload).toHaveLength(24);
      expect(payload.subarray(12, 16)).toEqual(new Uint8Array(le32(id)));
      expect(payload.subarray(20)).toEqual(hex('00 00 00 00'));
    }
  });

  test('the ESP32-S2 ROM answers GET_SECURITY_INFO in its short form: 12 bytes, no chip id (esptool reads it so)', async () => {
    const link = await rawLink({ chip: 'esp32s2', pacing: false, startInDownloadMode: true });
    const [frame] = new SlipDecoder().push(await exchange(link, request(0x14), 26));
    expect(frame!.subarray(0, 4)).toEqual(hex('01 14 10 00'));
    expect(frame!.subarray(8)).toEqual(new Uint8Array(16)); // 12 bytes of flags / key purposes, then 4 status bytes
  });

  test('C6 answers the flash-ID dance at its own SPI controller (0x60003000), S2 at 0x3F402000', async () => {
    for (const [chip, base] of [['esp32c6', 0x60003000], ['esp32s2', 0x3f402000]] as const) {
      const link = await rawLink({ chip, pacing: false, startInDownloadMode: true, flashSize: 8 << 20 });
      const one = async (bytes: Uint8Array) => new SlipDecoder().push(await exchange(link, bytes, 14))[0]!;
      await one(request(0x09, words(base + 0x20, 0x9f, 0xffffffff, 0))); // USR2: RDID
      await one(request(0x09, words(base, 1 << 18, 0xffffffff, 0))); // CMD: USR
      const w0 = await one(request(0x0a, words(base + 0x58)));
      expect(w0.subarray(4, 8)).toEqual(new Uint8Array(le32(0x1740ef))); // W25Q64: EF 40 17
    }
  });

  test('registers: unknown read 0, WRITE_REG honours the mask, SPI RDID yields the JEDEC id', async () => {
    const link = await rawLink({ chip: 'esp32c3', pacing: false, startInDownloadMode: true, flashSize: 16 << 20 });
    const readReg = async (addr: number) => {
      const [f] = new SlipDecoder().push(await exchange(link, request(0x0a, words(addr)), 14));
      return (f[4] | (f[5] << 8) | (f[6] << 16) | (f[7] << 24)) >>> 0;
    };
    expect(await readReg(0x12345678)).toBe(0);
    await exchange(link, request(0x09, words(0x3ff00000, 0xffffffff, 0x0000ff00, 0)), 14);
    expect(await readReg(0x3ff00000)).toBe(0x0000ff00);
    const base = 0x60002000;
    await exchange(link, request(0x09, words(base + 0x20, (7 << 28) | 0x9f, 0xffffffff, 0, base + 0x58, 0, 0xffffffff, 0)), 14);
    await exchange(link, request(0x09, words(base, 1 << 18, 0xffffffff, 0)), 14);
    expect(await readReg(base) & (1 << 18)).toBe(0);
    expect(await readReg(base + 0x58)).toBe(0x1840ef); // Winbond, 16 MB
  });

  test('MD5 is 32 lowercase hex characters + 4 status bytes; READ_FLASH_SLOW returns 64 bytes', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    link.chip.flash.set([1, 2, 3, 4], 0x1000);
    const expected = createHash('md5').update(link.chip.flash.subarray(0x1000, 0x2000)).digest('hex');
    const [f] = new SlipDecoder().push(await exchange(link, request(0x13, words(0x1000, 0x1000, 0, 0)), 46));
    expect(new TextDecoder().decode(f.subarray(8, 40))).toBe(expected);
    expect(f.subarray(40)).toEqual(hex('00 00 00 00'));
    const [slow] = new SlipDecoder().push(await exchange(link, request(0x0e, words(0x1000, 4)), 78));
    expect(slow.subarray(8, 12)).toEqual(hex('01 02 03 04'));
    expect(slow).toHaveLength(8 + 64 + 4);
  });

  // Regression: `esptool --no-stub read_flash` on S3/C3 died with "Invalid (unsupported) command 0xe".
  test('S3 and C3 ROMs also answer READ_FLASH_SLOW: 64 data bytes + 4 status bytes', async () => {
    for (const chip of ['esp32s3', 'esp32c3'] as const) {
      const link = await rawLink({ chip, pacing: false, startInDownloadMode: true });
      link.chip.flash.set([0xde, 0xad, 0xbe, 0xef, 0x55], 0x300000);
      const [frame] = new SlipDecoder().push(await exchange(link, request(0x0e, words(0x300000, 64)), 78));
      expect(frame.subarray(0, 8)).toEqual(hex('01 0E 44 00 00 00 00 00'));
      expect(frame.subarray(8, 14)).toEqual(hex('DE AD BE EF 55 FF'));
      expect(frame.subarray(14, 72)).toEqual(new Uint8Array(58).fill(0xff));
      expect(frame.subarray(72)).toEqual(hex('00 00 00 00'));
    }
  });

  test('FLASH_DATA with a bad checksum fails with ROM error 0x07; FLASH_BEGIN erases whole sectors first', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    link.chip.flash.fill(0, 0x8000, 0xa000);
    await exchange(link, request(0x02, words(0x400, 1, 0x400, 0x8000, 0)), 14);
    expect(link.chip.flash.subarray(0x8000, 0x9000).every((b) => b === 0xff)).toBe(true);
    expect(link.chip.flash[0x9000]).toBe(0);
    const block = new Uint8Array(0x400).fill(0x5a);
    const [bad] = new SlipDecoder().push(await exchange(link, dataCommand(0x03, 0, block, 0x00), 14));
    expect(bad.subarray(8)).toEqual(hex('01 07 00 00'));
    const [good] = new SlipDecoder().push(await exchange(link, dataCommand(0x03, 0, block), 14));
    expect(good.subarray(8)).toEqual(hex('00 00 00 00'));
    expect(link.chip.flash.subarray(0x8000, 0x8400).every((b) => b === 0x5a)).toBe(true);
  });

  test('MEM_END into code that was never uploaded: answered, then silence until reset', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    await exchange(link, request(0x06, words(0, 0x40090000)), 14);
    expect(link.chip.mode).toBe('crashed');
    link.clear();
    link.port.write(SYNC_REQUEST);
    expect(await link.settle(50)).toHaveLength(0);
  });
});

describe('stub', () => {
  test('MEM upload + MEM_END starts the stub: OHAI after the MEM_END answer, then stub SYNC with value 0', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    await startStub(link);
    expect(link.chip.stubRunning).toBe(true);
    const out = await exchange(link, SYNC_REQUEST, 8 * 12);
    expect(out).toEqual(new Uint8Array(Array.from({ length: 8 }, () => [...STUB_SYNC_ANSWER]).flat()));
  });

  test('2-byte status: unknown opcode → C3 00, wrong length → C0 00, ESP32 GET_SECURITY_INFO → FF 00', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    await startStub(link);
    const one = async (bytes: Uint8Array) => new SlipDecoder().push(await exchange(link, bytes, 12))[0];
    expect(await one(request(0x55))).toEqual(hex('01 55 02 00 00 00 00 00 C3 00'));
    const short = hex('C0 00 0A 08 00 00 00 00 00 00 10 00 40 C0'); // size says 8, 4 sent
    expect(await one(short)).toEqual(hex('01 0A 02 00 00 00 00 00 C0 00'));
    expect(await one(request(0x14))).toEqual(hex('01 14 02 00 00 00 00 00 FF 00'));
  });

  test('MD5 is 16 raw bytes; READ_FLASH streams packets one at a time, each after an ack, then the MD5', async () => {
    const link = await rawLink({ chip: 'esp32c3', pacing: false, startInDownloadMode: true });
    const content = Uint8Array.from({ length: 0x1800 }, (_, i) => (i * 31 + 7) & 0xff);
    link.chip.flash.set(content, 0x3000);
    await startStub(link);
    const [md5] = new SlipDecoder().push(await exchange(link, request(0x13, words(0x3000, 0x1800, 0, 0)), 28));
    expect(md5.subarray(8, 24)).toEqual(new Uint8Array(createHash('md5').update(content).digest()));
    expect(md5.subarray(24)).toEqual(hex('00 00'));

    link.clear();
    link.port.write(request(0xd2, words(0x3000, 0x1800, 0x1000, 64)));
    await link.waitFor(12 + 0x1000);
    const first = new SlipDecoder().push(await link.settle());
    expect(first).toHaveLength(2); // the empty answer and exactly one packet: nothing more until acked
    expect(first[0]).toEqual(hex('01 D2 02 00 00 00 00 00 00 00'));
    expect(first[1]).toEqual(content.subarray(0, 0x1000));
    link.clear();
    link.port.write(slipEncode(new Uint8Array(le32(0x1000))));
    await link.waitFor(0x800 + 2);
    const [second] = new SlipDecoder().push(await link.settle());
    expect(second).toEqual(content.subarray(0x1000));
    link.clear();
    link.port.write(slipEncode(new Uint8Array(le32(0x1800))));
    const [digest] = new SlipDecoder().push(await link.waitFor(18));
    expect(digest).toEqual(new Uint8Array(createHash('md5').update(content).digest()));
  });

  test('compressed write lands inflated; an inflate error is reported on the next command (C7)', async () => {
    const link = await rawLink({ chip: 'esp32s3', pacing: false, startInDownloadMode: true });
    await startStub(link);
    const image = Uint8Array.from({ length: 10000 }, (_, i) => (i % 251) ^ (i >> 8));
    const z = deflate(image, { level: 9 });
    const blocks = [z.subarray(0, 100), z.subarray(100)];
    const one = async (bytes: Uint8Array) => new SlipDecoder().push(await exchange(link, bytes, 12))[0];
    expect((await one(request(0x10, words(image.length, 2, 0x4000, 0x10000)))).subarray(8)).toEqual(hex('00 00'));
    for (const [seq, b] of blocks.entries()) expect((await one(dataCommand(0x11, seq, b))).subarray(8)).toEqual(hex('00 00'));
    expect((await one(request(0x12, words(1)))).subarray(8)).toEqual(hex('00 00'));
    expect(link.chip.flash.subarray(0x10000, 0x10000 + image.length)).toEqual(image);

    expect((await one(request(0x10, words(4096, 1, 0x4000, 0x20000)))).subarray(8)).toEqual(hex('00 00'));
    const garbage = new Uint8Array(64).fill(0x77);
    expect((await one(dataCommand(0x11, 0, garbage))).subarray(8)).toEqual(hex('00 00'));
    expect((await one(request(0x0a, words(0x40001000)))).subarray(8)).toEqual(hex('C7 00'));
  });

  test('FLASH_END after fewer bytes than announced fails with C0 (spec §8)', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    await startStub(link);
    const one = async (bytes: Uint8Array) => new SlipDecoder().push(await exchange(link, bytes, 12))[0];
    await one(request(0x02, words(0x2000, 1, 0x4000, 0x0)));
    await one(dataCommand(0x03, 0, new Uint8Array(0x1000).fill(1)));
    expect((await one(request(0x04, words(1)))).subarray(8)).toEqual(hex('C0 00'));
  });

  test('CHANGE_BAUDRATE: answered at the old rate, then the old rate hears nothing; the new rate works', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: true, startInDownloadMode: true, timingScale: 0, usbLatencyMs: 0 });
    await startStub(link);
    const [ack] = new SlipDecoder().push(await exchange(link, request(0x0f, words(460800, 115200)), 12));
    expect(ack).toEqual(hex('01 0F 02 00 00 00 00 00 00 00'));
    await link.settle(20);
    expect(link.chip.baud).toBe(460800);
    link.clear();
    link.port.write(request(0x0a, words(0x40001000)));
    expect(await link.settle(40)).toHaveLength(0);
    expect(link.chip.bytesGarbled).toBeGreaterThan(0);
    link.port.setBaud(460800);
    const [magic] = new SlipDecoder().push(await exchange(link, request(0x0a, words(0x40001000)), 12));
    expect(magic.subarray(4, 8)).toEqual(hex('83 1D F0 00'));
  });
});
