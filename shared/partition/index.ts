// ESP-IDF partition tables: CSV ↔ binary, byte-identical to gen_esp32part.py 1.5 (ESP-IDF v5.5–v6.0).
export {
  APP_TYPE,
  BOOTLOADER_TYPE,
  DATA_TYPE,
  DEFAULT_PARTITION_TABLE_OFFSET,
  PARTITION_TABLE_BINARY_SIZE,
  PARTITION_TABLE_SECTOR_SIZE,
  PARTITION_TABLE_TYPE,
  PartitionTableError,
  TYPE_KEYWORDS,
  BUILTIN_SUBTYPES,
  subtypeKeywords,
  type ExtraSubtype,
  type PartitionEntry,
  type PartitionErrorCode,
  type PartitionFlags,
  type PartitionTable,
  type SubtypeKeywords,
  type WarningSink,
} from './types.ts';
export {
  checkBootloaderOffset,
  decodePartitionCsv,
  expandVariables,
  parsePartitionCsv,
  parsePartitionNumber,
  type PartitionCsvOptions,
} from './csv.ts';
export { parseExtraSubtypes } from './extra-subtypes.ts';
export { decodePartitionBinary, isPartitionBinary, partitionTableToBinary, type PartitionBinaryOptions } from './binary.ts';
export { decodePartitionCsvText, parsePartitionBinary, parsePartitionInput, type PartitionInputOptions } from './input.ts';
export { partitionEntryToCsv, partitionTableToCsv } from './format.ts';
export { partitionTableFlashEnd, verifyFlashSize, verifyPartitionTable, type VerifyOptions } from './verify.ts';
export { HOMEKIT_SEC_CERT_TYPE, checkImageFits, findPartition, findPartitions, requirePartition, type PartitionQuery } from './lookup.ts';
