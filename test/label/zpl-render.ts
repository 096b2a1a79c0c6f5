// Test helper: renders ZPL to pixels with an independent ZPL interpreter — zpl-renderer-js, a
// WebAssembly build of ingridhq/zebrash, which follows Labelary's (and so the Zebra firmware's)
// reading of ZPL, including the ^BY-height offset of an ^FO-placed QR. Loaded through require so
// Vite does not transform its 9 MB bundle.
import { createRequire } from 'node:module';
import { readPng, type Raster } from './raster.ts';

interface ZplApi {
  zplToBase64Async(zpl: string, widthMm?: number, heightMm?: number, dpmm?: number): Promise<string>;
}

let api: Promise<ZplApi> | undefined;

function renderer(): Promise<ZplApi> {
  api ??= (createRequire(import.meta.url)('zpl-renderer-js') as { ready: Promise<{ api: ZplApi }> }).ready.then((r) => r.api);
  return api;
}

/** The label `zpl` prints on a `widthMm` × `heightMm` label at `dotsPerMm`, as RGBA pixels (one per dot). */
export async function renderZpl(zpl: string, widthMm: number, heightMm: number, dotsPerMm: number): Promise<Raster> {
  const png = await (await renderer()).zplToBase64Async(zpl, widthMm, heightMm, dotsPerMm);
  return readPng(new Uint8Array(Buffer.from(png, 'base64')));
}
