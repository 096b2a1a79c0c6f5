// Shared by the station CLIs: option parsing errors become one clean line, not a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './io.ts';

export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usage}`, 2);
  }
}
