// Turns the operator's partition table (binary or CSV bytes) into the binary that is written and
// the partitions the plan is checked against, using the shared partition module (same rules and
// bytes as ESP-IDF's gen_esp32part.py).
import { parsePartitionInput } from '../../shared/partition/input.ts';
import { partitionTableToBinary } from '../../shared/partition/binary.ts';
import { PartitionTableError } from '../../shared/partition/types.ts';
import { FlashError } from './errors.ts';

export interface PlanPartition {
  name: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  encrypted: boolean;
}

export interface LoadedTable {
  /** What goes to flash: a binary input as given, a CSV input converted. */
  binary: Uint8Array;
  partitions: PlanPartition[];
}

export function loadPartitionTable(bytes: Uint8Array, tableOffset: number): LoadedTable {
  try {
    const { table, inputIsBinary } = parsePartitionInput(bytes, { offset: tableOffset });
    return {
      binary: inputIsBinary ? bytes : partitionTableToBinary(table),
      partitions: table.entries.map((e) => ({
        name: e.name,
        type: e.type,
        subtype: e.subtype,
        offset: e.offset,
        size: e.size,
        encrypted: e.flags.encrypted,
      })),
    };
  } catch (err) {
    if (err instanceof PartitionTableError) {
      const where = err.line !== undefined ? ` (line ${err.line}${err.field ? `, ${err.field}` : ''})` : '';
      throw new FlashError('invalid-plan', `partition table${where}: ${err.message.split('\n').join(' ')}`, { stage: 'plan', cause: err });
    }
    throw err;
  }
}
