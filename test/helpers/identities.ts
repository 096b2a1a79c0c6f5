// Test doubles for issuing identities in a registry: a random source that can be made to repeat
// itself (forces the issuing policy to draw again) and fixed secrets for a drawn code and ID.

/** A random source that replays one fixed sequence from its start after each rewind() (forces collisions). */
export function replayingRandom() {
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state & 255;
  };
  return { random: (n: number) => Uint8Array.from({ length: n }, next), rewind: () => { state = 0x9e3779b9; } };
}

/** Secrets for a drawn identity (the registry draws code and ID under the issuing policy). */
export function secrets(drawn: { setupCode: string; setupId: string }) {
  return { ...drawn, salt: new Uint8Array(16).fill(3), verifier: new Uint8Array(384).fill(1), payload: `X-HM://TEST${drawn.setupId}` };
}
