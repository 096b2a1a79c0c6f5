// A one-line progress bar, drawn only on an interactive terminal (never into logs or pipes).
import type { BatchOutput } from './errors.ts';

const WIDTH = 30;
const MIN_INTERVAL_MS = 100;

export class Progress {
  private last = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(private readonly io: Pick<BatchOutput, 'stdout' | 'isTTY'>, private total: number, private readonly label = 'accessories') {}

  /** Draws `done` of the total (`total` replaces the one given at construction, e.g. once known). */
  update(done: number, total?: number): void {
    if (total !== undefined) this.total = total;
    if (!this.io.isTTY) return;
    const now = Date.now();
    if (done < this.total && now - this.last < MIN_INTERVAL_MS) return;
    this.last = now;
    const filled = Math.round((done / this.total) * WIDTH);
    const rate = done / Math.max((now - this.started) / 1000, 0.001);
    this.io.stdout(`\r[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${this.total} ${this.label}  ${rate.toFixed(0)}/s `);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.io.stdout('\r\x1b[2K');
    this.drawn = false;
  }
}
