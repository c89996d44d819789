import { parseArgs, type ParseArgsConfig } from 'node:util';
// The errors module alone: the whole core would cost every --version and --help its load time.
import { CertsmithError, UsageError, usageErrorLines } from '@certsmith/core/errors';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
type ParsedCommandLine<T extends OptionSpecs> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

/**
 * node's parseArgs, with its complaints in our words: an unknown option, a missing value or a value given to a
 * switch is a UsageError naming the option, with `help` (where to read the usage) as its hint.
 */
export function parseCommandLine<T extends OptionSpecs>(args: string[], options: T, help: string): ParsedCommandLine<T> {
  // A lenient pass first: its tokens say which option is at fault, where the strict parser's message would not.
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw usageError(`${token.rawName}: unknown option`, help);
    if (spec.type === 'boolean' && token.inlineValue) throw usageError(`${token.rawName}: takes no value`, help);
    // "--config --json": the next word is another option, not the file (the strict parser calls it ambiguous).
    if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))))
      throw usageError(`${token.rawName}: needs a value`, help);
  }
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

export function usageError(message: string, help: string): UsageError {
  return new UsageError('USAGE', message, { hint: `see ${help}` });
}

export interface ErrorReport {
  /** The name the lines start with (default `certsmith`). */
  program?: string;
  /** Where the lines go (default stderr). */
  write?: (line: string) => void;
  /** Every CertsmithError is the input's fault, not only a UsageError (`status` reads nothing but files and state). */
  anyCertsmithError?: boolean;
}

/**
 * The one error-to-exit-code path of every command: bad input is `<program>: CODE: where: what`, one line per
 * problem, and exit code 2. Anything else is rethrown (a bug: main prints it as an internal error, exit 1).
 */
export function reportUsageError(error: unknown, report: ErrorReport = {}): number {
  const input = report.anyCertsmithError ? error instanceof CertsmithError : error instanceof UsageError;
  if (!input) throw error;
  const write = report.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const line of usageErrorLines(error as CertsmithError)) write(`${report.program ?? 'certsmith'}: ${line}`);
  return 2;
}
