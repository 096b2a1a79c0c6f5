// Where JSON.parse gave up, as " (line L, column C)": for messages about a JSON file that must not
// quote it (Node's own message quotes the text around the error: a profile pointing at another
// file would show that file's content).

/** " (line L, column C)" of the first error in `text`. */
export function jsonErrorPosition(text: string): string {
  return lineColumn(text, jsonErrorOffset(text));
}

/**
 * Where JSON.parse gives up. Node 20 names a position for some errors only; for an unexpected
 * token, find the shortest prefix that already fails on that token (it stays bad in longer ones).
 */
function jsonErrorOffset(text: string): number {
  const message = (n: number) => {
    try {
      JSON.parse(text.slice(0, n));
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  const at = /at position (\d+)/.exec(message(text.length));
  if (at) return Number(at[1]);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (message(mid + 1).startsWith('Unexpected token')) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos).split('\n');
  return ` (line ${before.length}, column ${before.at(-1)!.length + 1})`;
}
