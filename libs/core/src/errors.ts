/**
 * An error with a stable code, carried on the `failed` event. The message says what to fix;
 * `hint` may add the next step. Anything that is not a CertsmithError is a bug and is reported as INTERNAL.
 */
export class CertsmithError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CertsmithError';
    this.code = code;
    this.hint = options.hint;
  }
}

/**
 * A problem with what the user gave us (config, plugin, switches, command line): the CLI prints it and exits 2,
 * before any target is touched. The message reads `where: what` (the file and JSON path, the option, the
 * directory at fault, named once); several problems found at once (every schema error of a config) are one line each.
 */
export class UsageError extends CertsmithError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'UsageError';
  }
}

/** Code and message of anything thrown, for the `failed` event. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof CertsmithError) return { code: error.code, message: error.message };
  if (error instanceof Error) {
    if (error.name === 'AbortError' || error.name === 'TimeoutError') return { code: 'TIMEOUT', message: error.message };
    const sys = (error as NodeJS.ErrnoException).code;
    return { code: sys ? `SYSTEM_${sys}` : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}

/** The lines a UsageError (or any CertsmithError) is printed as: `CODE: where: what` once per problem, the hint on the last one. */
export function usageErrorLines(error: CertsmithError): string[] {
  const lines = error.message.split('\n').filter((line) => line.length > 0);
  return lines.map((line, i) => `${error.code}: ${line}${i === lines.length - 1 && error.hint ? ` (${error.hint})` : ''}`);
}
