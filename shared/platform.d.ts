// The only host globals shared/ may touch: available in Node >= 20, Electron and browsers alike.
// Declared here (instead of pulling in DOM or Node typings) so the type-check keeps shared/ pure.
declare global {
  interface SharedCrypto {
    getRandomValues<T extends Uint8Array | Uint16Array | Uint32Array>(array: T): T;
  }
  // eslint-disable-next-line no-var
  var crypto: SharedCrypto;
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean });
    decode(input?: Uint8Array): string;
  }
  function btoa(data: string): string;
  function atob(data: string): string;
}
export {};
