// Batch worker thread: message glue around the unit writer. Runs from the cached bundle (see
// worker-script.ts), or through worker-bootstrap.mjs, which registers the TypeScript loader first
// (workers do not inherit it).
import { parentPort } from 'node:worker_threads';
import { createUnitWriter, type UnitWriter } from './unit-writer.ts';
import type { FromWorker, ToWorker, UnitResult } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('batch worker must run in a worker thread');
let writer: Promise<UnitWriter> | undefined;

function post(msg: FromWorker): void {
  port!.postMessage(msg);
}

port.on('message', (msg: ToWorker) => {
  void (async () => {
    if (msg.type === 'init') {
      writer = createUnitWriter(msg);
      await writer;
      post({ type: 'ready' });
      return;
    }
    if (msg.type === 'close') {
      port.close();
      return;
    }
    try {
      if (!writer) throw new Error('worker used before init');
      const w = await writer;
      const results: UnitResult[] = [];
      for (const task of msg.units) results.push(await w.write(task));
      post({ type: 'done', id: msg.id, results });
    } catch (err) {
      post({ type: 'error', id: msg.id, message: describe(err) });
    }
  })();
});

/** The unit writer words its failures itself (position and setup ID, never a file name holding a code). */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
