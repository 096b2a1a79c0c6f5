import { LabelLayoutError } from './errors.ts';

// Checks and normalisation of what goes onto a label: the setup code digits (which must be the
// code inside the QR payload, so a label can never show one code and encode another) and logos.

export type CodeStyle = 'dashed' | 'groups-of-four';

// Errors name the element but never contain the setup code (it is a secret).

/** 8 digits from `DDD-DD-DDD` or `DDDDDDDD`; leading zeros kept. */
export function setupCodeDigits(setupCode: string): string {
  if (/^\d{3}-\d{2}-\d{3}$/.test(setupCode)) return setupCode.replaceAll('-', '');
  if (/^\d{8}$/.test(setupCode)) return setupCode;
  throw new LabelLayoutError('setupCode', 'must be 8 digits as DDD-DD-DDD or DDDDDDDD');
}

/** The printed lines of the code: one `DDD-DD-DDD` line or two lines of four digits. */
export function setupCodeLines(setupCode: string, style: CodeStyle): string[] {
  const d = setupCodeDigits(setupCode);
  return style === 'groups-of-four'
    ? [d.slice(0, 4), d.slice(4)]
    : [`${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`];
}

// X-HM:// + 9 base-36 header chars + 4-char setup ID (+ 18-char Espressif product-data suffix).
const PAYLOAD_RE = /^X-HM:\/\/([0-9A-Z]{9})[0-9A-Z]{4}(?:[0-9A-Z]{18})?$/;
const CODE_BITS = 2 ** 27;

/** Setup code (8 digits) encoded in a HomeKit setup payload: header bits 0–26. */
export function setupCodeInPayload(payload: string): string {
  const m = PAYLOAD_RE.exec(payload);
  if (!m) {
    throw new LabelLayoutError(
      'setupPayload',
      'not a HomeKit setup payload (X-HM:// + 13 upper-case base-36 characters)',
    );
  }
  // 36^9 < 2^53, so the header value is exact as a Number.
  const header = parseInt(m[1]!, 36);
  return String(header % CODE_BITS).padStart(8, '0');
}

/** Throws unless the code digits equal the code inside the payload. */
export function checkCodeMatchesPayload(setupCode: string, payload: string): void {
  if (setupCodeDigits(setupCode) !== setupCodeInPayload(payload)) {
    throw new LabelLayoutError('setupCode', 'does not match the setup code inside the setup payload');
  }
}

export type LogoMimeType = 'image/png' | 'image/jpeg' | 'image/svg+xml';

export interface DecodedLogo {
  mimeType: LogoMimeType;
  bytes: Uint8Array;
}

const MAX_LOGO_BYTES = 1024 * 1024;

/** Decodes a base64 data URL holding a PNG, JPEG or SVG logo and checks its magic bytes. */
export function decodeLogoDataUrl(dataUrl: string): DecodedLogo {
  const m = /^data:(image\/png|image\/jpeg|image\/svg\+xml);base64,([A-Za-z0-9+/]*={0,2})$/.exec(dataUrl);
  if (!m) {
    throw new LabelLayoutError('logo', 'must be a base64 data URL of type image/png, image/jpeg or image/svg+xml');
  }
  const mimeType = m[1] as LogoMimeType;
  let binary: string;
  try {
    binary = atob(m[2]!);
  } catch {
    throw new LabelLayoutError('logo', 'data URL is not valid base64');
  }
  if (binary.length > MAX_LOGO_BYTES) throw new LabelLayoutError('logo', `larger than ${MAX_LOGO_BYTES} bytes`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const looksRight =
    mimeType === 'image/png'
      ? bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47
      : mimeType === 'image/jpeg'
        ? bytes[0] === 0xff && bytes[1] === 0xd8
        : /<svg[\s>]/.test(binary.slice(0, 4096));
  if (!looksRight) throw new LabelLayoutError('logo', `content is not a ${mimeType} image`);
  return { mimeType, bytes };
}
