// Types for the pure encoder core of the `qrcode` package. The package's own entry point pulls in
// `fs`/PNG writers (and @types/qrcode references Node types), so shared/ imports only this file.
declare module 'qrcode/lib/core/qrcode.js' {
  interface QrCoreBitMatrix {
    size: number;
    /** Row-major, 1 = dark module. */
    data: Uint8Array;
  }
  interface QrCoreSymbol {
    modules: QrCoreBitMatrix;
    version: number;
    errorCorrectionLevel: { bit: number };
  }
  interface QrCoreOptions {
    errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H';
    version?: number;
    maskPattern?: number;
  }
  /** One segment in a fixed mode (the encoder then does not choose the modes itself). */
  interface QrCoreSegment {
    data: string;
    mode: 'numeric' | 'alphanumeric' | 'byte';
  }
  const core: { create(data: string | QrCoreSegment[], options?: QrCoreOptions): QrCoreSymbol };
  export default core;
}
